"""Magento test helpers: connections, documented payloads, a signing key for events."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from integrations.magento import client as magento_client
from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from tests.factories import make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
BASE_URL = "https://shop.example.test"
API = f"{BASE_URL}/rest/V1"
IO_CLIENT_ID = "76e82e864661495b89d774b0e49adfb9"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def page(items: list[dict], total: int | None = None) -> dict:
    """A searchCriteria answer: items, the criteria echoed, the total count."""
    return {
        "items": items,
        "search_criteria": {"filter_groups": [], "page_size": 50, "current_page": 1},
        "total_count": len(items) if total is None else total,
    }


@pytest.fixture(autouse=True)
def store_bucket(monkeypatch):
    # A roomy bucket: these tests are about behaviour, not pacing (test_client covers that).
    monkeypatch.setattr(magento_client, "BUCKET_CAPACITY", 1000.0)
    bucket = SharedBucket("magento:shop.example.test")
    bucket.reset()
    yield bucket
    bucket.reset()


def _connection(provider: str, **credentials) -> Connection:
    return Connection.objects.create(
        tenant=make_tenant(),
        provider=provider,
        kind=Connection.Kind.COMMERCE,
        name=provider,
        credentials={"base_url": BASE_URL, "access_token": "integration-token", **credentials},
    )


@pytest.fixture
def magento_connection(db):
    return _connection("magento")


@pytest.fixture
def adobe_connection(db):
    return _connection("adobe_commerce", io_client_id=IO_CLIENT_ID)


class Signer:
    """Stands in for Adobe I/O Events: an RSA key pair, its public key served at a path."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.path = f"/prod/keys/pub-key-{uuid.uuid4().hex[:10]}.pem"

    @property
    def public_pem(self) -> str:
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign(self, body: bytes) -> str:
        return base64.b64encode(self.key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


@pytest.fixture
def signer():
    return Signer()
