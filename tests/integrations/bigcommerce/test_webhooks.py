"""BigCommerce webhooks through the real URL: our token header, thin payloads
that make us fetch the order, redeliveries with no second effect."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations.bigcommerce import webhooks
from integrations.bigcommerce.client import BigCommerceClient
from integrations.models import Order, Refund, Shipment, WebhookEvent
from tests.integrations.bigcommerce.conftest import API, deliver, load, serve_order

pytestmark = pytest.mark.django_db


def test_order_created_fetches_and_mirrors_the_order(client, bc_connection, store):
    serve_order(store, 250)
    response = deliver(client, bc_connection, load("store_order_created.json"))
    assert response.status_code == 200, response.content
    assert response.applied == ["processed"]
    order = Order.objects.get(tenant=bc_connection.tenant)
    assert order.number == order.external_id == "250"
    assert order.connection == bc_connection
    assert order.total == Decimal("69.84")
    assert order.shipping_total == Decimal("12.00")
    assert order.tax_total == Decimal("5.31")
    assert order.email == "janedoe@example.com"
    assert order.customer.name == "Jane Doe"
    assert order.financial_status == "authorized"
    assert order.shipping_address["address1"] == "123 MainStreet"
    assert order.shipping_address["country_code"] == "US"
    # The bundled part (parent_order_product_id 65) is not a line of its own.
    assert list(order.lines.values_list("sku", "unit_price")) == [("S-ORAN", Decimal("65.23"))]
    assert sorted(order.shipments.values_list("carrier", "tracking_number")) == [
        ("usps", "EJ958083578UK"),
        ("usps", "EJ958083578US"),
    ]
    assert order.raw["order"]["cart_id"] == "7e48f7ef-2e88-4817-aea4-b0ed01490114"
    kept = WebhookEvent.objects.get()
    assert kept.topic == "store/order/created"
    assert json.loads(kept.body)["hash"] == "dd70c0976e06b67aaf671e73f49dcb79230ebf9d"


def test_cancelled_status_marks_the_order_cancelled(client, bc_connection, store):
    serve_order(store, 250, status_id=5, status="Cancelled")
    deliver(client, bc_connection, load("store_order_status_updated.json"))
    order = Order.objects.get()
    assert order.cancelled_at is not None
    assert order.fulfillment_status == "cancelled"


def test_wrong_token_is_401_and_kept(client, bc_connection, store):
    response = deliver(client, bc_connection, load("store_order_created.json"), token="guess")
    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert not store.calls  # nothing fetched for an unauthenticated delivery
    assert not Order.objects.exists()


def test_missing_token_is_401(client, bc_connection, store):
    response = deliver(client, bc_connection, load("store_order_created.json"), token=None)
    assert response.status_code == 401


def test_malformed_body_is_400_and_kept(client, bc_connection, store):
    response = deliver(client, bc_connection, {}, body=b'{"scope": "store/order/created",')
    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED


def test_redelivery_has_no_second_effect(client, bc_connection, store):
    serve_order(store, 250)
    payload = load("store_order_created.json")
    first = deliver(client, bc_connection, payload)
    again = deliver(client, bc_connection, payload)
    assert first.status_code == again.status_code == 200
    assert Order.objects.count() == 1
    assert Order.objects.get().lines.count() == 1
    assert Shipment.objects.count() == 2


def test_shipment_created_fetches_the_order_it_names(client, bc_connection, store):
    serve_order(store, 251)
    response = deliver(client, bc_connection, load("store_shipment_created.json"))
    assert response.applied == ["processed"]
    order = Order.objects.get(external_id="251")
    assert order.shipments.filter(tracking_number="EJ958083578US").exists()


def test_refund_created_mirrors_the_refund_once(client, bc_connection, store):
    serve_order(store, 250)
    refund = load("refund.json")["data"]
    refund.update(id=3, order_id=250)
    refund["payments"][0]["is_declined"] = False
    store.get(f"{API}/v3/orders/250/payment_actions/refunds").respond(
        200, json={"data": [refund], "meta": {}}
    )
    payload = load("store_order_refund_created.json")
    deliver(client, bc_connection, payload)
    deliver(client, bc_connection, payload)
    mirrored = Refund.objects.get()
    assert mirrored.amount == Decimal("1.99")
    assert mirrored.external_id == "bigcommerce:refund:3"
    assert mirrored.currency == "USD"


def test_a_declined_refund_payment_moves_no_money(client, bc_connection, store):
    serve_order(store, 250)
    refund = load("refund.json")["data"]  # as documented: the payment was declined
    refund.update(id=3, order_id=250)
    store.get(f"{API}/v3/orders/250/payment_actions/refunds").respond(
        200, json={"data": [refund], "meta": {}}
    )
    deliver(client, bc_connection, load("store_order_refund_created.json"))
    assert not Refund.objects.exists()


def test_an_order_the_store_no_longer_has_is_ignored(client, bc_connection, store):
    store.get(f"{API}/v2/orders/250").respond(404, json=load("error_v2_not_found.json"))
    response = deliver(client, bc_connection, load("store_order_created.json"))
    assert response.applied == ["ignored"]


def test_unmirrored_scope_is_acknowledged_and_ignored(client, bc_connection, store):
    payload = {**load("store_order_created.json"), "scope": "store/product/created"}
    response = deliver(client, bc_connection, payload)
    assert response.status_code == 200
    assert response.applied == ["ignored"]


def test_subscribe_registers_each_scope_with_our_headers(store):
    created = store.post(f"{API}/v3/hooks").respond(200, json={"data": {"id": 1}, "meta": {}})
    client = BigCommerceClient("abc123def", "bc-access-token", sleep=lambda s: None)
    webhooks.subscribe(client, "https://desk.example.com/webhooks/bigcommerce/x", "tok")
    bodies = [json.loads(call.request.content) for call in created.calls]
    assert {b["scope"] for b in bodies} == webhooks.SCOPES
    assert all(b["headers"]["X-Desk-Webhook-Token"] == "tok" for b in bodies)
    assert all(b["headers"]["X-Desk-Webhook-Scope"] == b["scope"] for b in bodies)
