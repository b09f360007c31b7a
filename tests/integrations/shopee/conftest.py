"""Shopee test helpers: a connection, documented payloads, a signed push."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from integrations.shopee import client as shopee_client
from integrations.shopee.webhooks import signature
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
PARTNER_KEY = "shopee_vector_key"
API = shopee_client.API


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().strip()


@pytest.fixture
def shopee_connection(db):
    return Connection.objects.create(
        tenant=make_tenant(),
        provider="shopee",
        kind=Connection.Kind.COMMERCE,
        name="Shopee",
        credentials={
            "partner_id": "2001887",
            "partner_key": PARTNER_KEY,
            "access_token": "5a4a6c6e4f4d4c5a",
            "shop_id": "601314",
        },
    )


@pytest.fixture(autouse=True)
def fresh_bucket(monkeypatch):
    name = f"test:{uuid.uuid4().hex}"
    original = shopee_client.ShopeeClient.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("bucket", SharedBucket(name, capacity=10, restore_rate=10))
        kwargs.setdefault("http", httpx.Client())
        kwargs.setdefault("sleep", lambda seconds: None)
        original(self, *args, **kwargs)

    monkeypatch.setattr(shopee_client.ShopeeClient, "__init__", init)
    yield
    SharedBucket(name).reset()


def push(client, connection, body: bytes, *, key: str = PARTNER_KEY, auth: str | None = None):
    """POST a push as Shopee sends it (signing the URL it calls), then apply it."""
    path = f"/webhooks/shopee/{connection.public_id}"
    given = auth if auth is not None else signature(key, f"http://testserver{path}", body)
    response = client.post(
        path, data=body, content_type="application/json", headers={"Authorization": given}
    )
    response.applied = apply_webhooks()
    return response
