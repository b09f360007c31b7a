"""Lazada test helpers: a connection, documented payloads, a signed push."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from integrations.lazada import client as lazada_client
from integrations.lazada.webhooks import signature
from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
APP_KEY = "112233"
APP_SECRET = "lazada_vector_secret"
API = lazada_client.GATEWAYS["SG"]


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().strip()


@pytest.fixture
def lazada_connection(db):
    return Connection.objects.create(
        tenant=make_tenant(),
        provider="lazada",
        kind=Connection.Kind.COMMERCE,
        name="Lazada",
        credentials={
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "access_token": "50000600a18test",
            "country": "SG",
            "seller_id": "1000114855",
        },
    )


@pytest.fixture(autouse=True)
def fresh_bucket(monkeypatch):
    name = f"test:{uuid.uuid4().hex}"
    original = lazada_client.LazadaClient.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("bucket", SharedBucket(name, capacity=10, restore_rate=10))
        kwargs.setdefault("http", httpx.Client())
        kwargs.setdefault("sleep", lambda seconds: None)
        original(self, *args, **kwargs)

    monkeypatch.setattr(lazada_client.LazadaClient, "__init__", init)
    yield
    SharedBucket(name).reset()


def push(client, connection, body: bytes, *, secret: str = APP_SECRET):
    """POST a push as Lazada sends it (app key + body signed), then apply it."""
    response = client.post(
        f"/webhooks/lazada/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={"Authorization": signature(APP_KEY, secret, body)},
    )
    response.applied = apply_webhooks()
    return response
