"""BigCommerce test helpers: a tenant with a BigCommerce connection, a mocked
store API serving the documented payloads, and deliveries through the real URL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import respx

from integrations.models import Connection
from integrations.ratelimit import SharedBucket
from tests.factories import apply_webhooks, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
STORE_HASH = "abc123def"
TOKEN = "bc-access-token"
HOOK_TOKEN = "desk-hook-token"
API = f"https://api.bigcommerce.com/stores/{STORE_HASH}"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def order_payload(order_id: int = 218, **changes) -> dict:
    """The documented order, under the id a test needs."""
    order = copy.deepcopy(load("order.json"))
    order.update(id=order_id, **changes)
    return order


@pytest.fixture(autouse=True)
def fresh_bucket():
    SharedBucket(f"bigcommerce:{STORE_HASH}").reset()
    yield
    SharedBucket(f"bigcommerce:{STORE_HASH}").reset()


@pytest.fixture
def bc_connection(db):
    return Connection.objects.create(
        tenant=make_tenant(),
        provider="bigcommerce",
        kind=Connection.Kind.COMMERCE,
        name="BigCommerce",
        credentials={
            "store_hash": STORE_HASH,
            "access_token": TOKEN,
            "webhook_secret": HOOK_TOKEN,
        },
    )


@pytest.fixture
def store():
    """The store's API with one documented order; tests add routes as they need."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def serve_order(mock, order_id: int = 218, *, shipments=None, **changes) -> dict:
    order = order_payload(order_id, **changes)
    mock.get(f"{API}/v2/orders/{order_id}").respond(200, json=order)
    mock.get(f"{API}/v2/orders/{order_id}/products").respond(200, json=load("order_products.json"))
    shipped = load("order_shipments.json") if shipments is None else shipments
    route = mock.get(f"{API}/v2/orders/{order_id}/shipments")
    route.respond(200, json=shipped) if shipped else route.respond(204)
    mock.get(f"{API}/v2/orders/{order_id}/shipping_addresses").respond(
        200, json=[load("order_shipping_address.json")]
    )
    return order


def deliver(client, connection, payload, *, token: str | None = HOOK_TOKEN, body=None):
    """POST a delivery as BigCommerce sends it (our custom headers on the hook),
    then let the intake worker apply what was kept."""
    headers = {"X-Desk-Webhook-Scope": payload.get("scope", "") if payload else ""}
    if token is not None:
        headers["X-Desk-Webhook-Token"] = token
    response = client.post(
        f"/webhooks/bigcommerce/{connection.public_id}",
        data=body if body is not None else json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers,
    )
    response.applied = apply_webhooks()
    return response
