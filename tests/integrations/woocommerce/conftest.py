"""WooCommerce test helpers: a connection, the mocked store API, deliveries through the real URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import respx

from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from integrations.webhooks import sign
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
STORE = "https://shop.example.com"
API = f"{STORE}/wp-json/wc/v3"
SECRET = "wc-webhook-secret"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def order(**changes) -> dict:
    raw = copy.deepcopy(load("order_727.json"))
    raw.update(changes)
    return raw


@pytest.fixture(autouse=True)
def fresh_bucket():
    SharedBucket("woocommerce:shop.example.com").reset()
    yield
    SharedBucket("woocommerce:shop.example.com").reset()


@pytest.fixture
def wc_connection(db):
    return Connection.objects.create(
        tenant=make_tenant(),
        provider="woocommerce",
        kind=Connection.Kind.COMMERCE,
        name="WooCommerce",
        credentials={
            "store_url": STORE,
            "consumer_key": "ck_test",
            "consumer_secret": "cs_test",
            "webhook_secret": SECRET,
        },
    )


@pytest.fixture
def store():
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def deliver(client, connection, topic, payload, *, delivery_id="d-1", secret=SECRET, body=None):
    raw = body if body is not None else json.dumps(payload).encode()
    response = client.post(
        f"/webhooks/woocommerce/{connection.public_id}",
        data=raw,
        content_type="application/json",
        headers={
            "X-WC-Webhook-Source": f"{STORE}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": topic.split(".")[0],
            "X-WC-Webhook-Event": topic.split(".")[-1],
            "X-WC-Webhook-Signature": sign(secret, raw),
            "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": delivery_id,
        },
    )
    response.applied = apply_webhooks()
    return response
