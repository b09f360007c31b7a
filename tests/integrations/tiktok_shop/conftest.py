"""TikTok Shop test helpers: a connection, documented payloads, a signed push."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from integrations.tiktok_shop import client as tts_client
from integrations.tiktok_shop.webhooks import signature
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
APP_KEY = "6a6vectorkey"
APP_SECRET = "tts_vector_secret"
CIPHER = "ROW_vectorcipher"
SHOP_ID = "7494049642642441621"
ORDER_ID = "576461413038785752"
API = tts_client.API


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().strip()


@pytest.fixture
def credentials() -> dict:
    return {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "access_token": "ROW_test_token",
        "shop_cipher": CIPHER,
        "shop_id": SHOP_ID,
        "return_reason": "ecom_order_delivered_refund_reason_damaged",
        "cancel_reason": "seller_cancel_reason_out_of_stock",
    }


@pytest.fixture
def tts_connection(db, credentials):
    return Connection.objects.create(
        tenant=make_tenant(),
        provider="tiktok_shop",
        kind=Connection.Kind.COMMERCE,
        name="TikTok Shop",
        credentials=credentials,
    )


@pytest.fixture(autouse=True)
def fresh_bucket(monkeypatch):
    """Each test its own shop bucket, so one test's queue never slows another."""
    name = f"test:{uuid.uuid4().hex}"
    original = tts_client.TikTokShopClient.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("bucket", SharedBucket(name, capacity=10, restore_rate=10))
        kwargs.setdefault("http", httpx.Client())
        kwargs.setdefault("sleep", lambda seconds: None)
        original(self, *args, **kwargs)

    monkeypatch.setattr(tts_client.TikTokShopClient, "__init__", init)
    yield
    SharedBucket(name).reset()


def push(client, connection, body: bytes, *, secret: str = APP_SECRET, auth: str | None = None):
    """POST a webhook as TikTok sends it, then let the intake worker apply it."""
    response = client.post(
        f"/webhooks/tiktok_shop/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={"Authorization": auth if auth is not None else signature(APP_KEY, secret, body)},
    )
    response.applied = apply_webhooks()
    return response
