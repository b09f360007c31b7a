"""Shopify test helpers: a tenant with a Shopify connection and documented payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.models import Connection
from integrations.webhooks import sign
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "shpss_test_secret"
SHOP = "desk-test.myshopify.com"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def shop_connection(db):
    tenant = make_tenant()
    return Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Shopify",
        credentials={"shop": SHOP, "access_token": "shpat_test", "webhook_secret": SECRET},
    )


def deliver(
    client,
    connection,
    topic: str,
    body: bytes,
    *,
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    triggered_at: str = "2026-07-01T12:00:00.000000Z",
    secret: str = SECRET,
    signature: str | None = None,
):
    """POST a delivery with the headers Shopify sends, then let the intake
    worker apply what was kept."""
    response = client.post(
        f"/webhooks/shopify/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature if signature is not None else sign(secret, body),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-API-Version": "2026-07",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Triggered-At": triggered_at,
            "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        },
    )
    response.applied = apply_webhooks()  # what the worker made of it
    return response
