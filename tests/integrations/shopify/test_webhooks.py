"""Shopify webhooks: signature, de-duplication, ordering, and the mirror they feed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations import executors
from integrations.models import Order, Refund, Shipment, WebhookEvent
from integrations.webhooks import sign, verify_base64_hmac
from tests.integrations.shopify.conftest import deliver, load

pytestmark = pytest.mark.django_db


def _body(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def test_signature_matches_an_independently_computed_vector():
    # printf '<body>' | openssl dgst -sha256 -hmac shpss_vector_secret -binary | base64
    body = b'{"id":820982911946154508,"topic":"orders/create"}'
    expected = "tewD4792g3KGnagU1PTh/0ORWcx7nPtjKTzhZhpc7zM="
    assert sign("shpss_vector_secret", body) == expected
    assert verify_base64_hmac("shpss_vector_secret", body, expected)
    assert not verify_base64_hmac("shpss_vector_secret", body + b" ", expected)
    assert not verify_base64_hmac("", body, sign("", body))  # no secret, no trust


def test_orders_create_mirrors_the_documented_order(client, shop_connection):
    response = deliver(client, shop_connection, "orders/create", _body(load("orders_create.json")))
    assert response.status_code == 200, response.content
    order = Order.objects.get(tenant=shop_connection.tenant)
    assert order.number == "9999"
    assert order.external_id == "820982911946154508"
    assert order.connection == shop_connection
    assert order.total == Decimal("404.95")
    assert order.shipping_total == Decimal("10.00")
    assert order.shipping_address["country_code"] == "US"
    assert order.cancelled_at is not None
    assert order.customer.email == "jon@example.com"
    assert sorted(order.lines.values_list("sku", flat=True)) == [
        "CASE-LEATHER-PREM",
        "LENS-PROTECT-2YR",
        "SKU2006-001",
        "SKU2006-020",
        "SKU2006-035",
    ]
    assert order.raw["tags"] == "tag1, tag2"  # the payload is kept as sent
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_bad_signature_is_401_and_the_raw_body_is_kept(client, shop_connection):
    body = _body(load("orders_create.json"))
    response = deliver(client, shop_connection, "orders/create", body, secret="not-the-secret")
    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.body == body.decode()
    assert kept.headers["X-Shopify-Topic"] == "orders/create"
    assert not Order.objects.exists()


def test_missing_signature_is_401(client, shop_connection):
    response = deliver(client, shop_connection, "orders/create", b"{}", signature="")
    assert response.status_code == 401


def test_malformed_body_is_400_and_kept(client, shop_connection):
    response = deliver(client, shop_connection, "orders/create", b'{"id": 1,')
    assert response.status_code == 400
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.error.startswith("Malformed JSON")


def test_payload_missing_required_fields_is_accepted_then_fails_with_the_reason(
    client, shop_connection
):
    response = deliver(client, shop_connection, "orders/create", _body({"name": "#1"}))
    assert response.status_code == 200
    assert response.applied == ["failed"]
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.FAILED
    assert "created_at" in kept.error


def test_redelivery_is_200_and_has_no_second_effect(client, shop_connection):
    body = _body(load("refunds_create.json"))
    deliver(
        client,
        shop_connection,
        "orders/create",
        _body(load("orders_create.json")),
        webhook_id="o-1",
    )
    first = deliver(client, shop_connection, "refunds/create", body, webhook_id="r-1")
    again = deliver(client, shop_connection, "refunds/create", body, webhook_id="r-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert WebhookEvent.objects.filter(delivery_id="r-1").count() == 1
    refund = Refund.objects.get()
    assert refund.amount == Decimal("85.00")  # 75.00 + 10.00, both successful refund transactions
    assert refund.external_id == "gid://shopify/Refund/890088186047892319"


def test_same_refund_under_a_new_webhook_id_is_still_counted_once(client, shop_connection):
    deliver(
        client,
        shop_connection,
        "orders/create",
        _body(load("orders_create.json")),
        webhook_id="o-1",
    )
    body = _body(load("refunds_create.json"))
    deliver(client, shop_connection, "refunds/create", body, webhook_id="r-1")
    deliver(client, shop_connection, "refunds/create", body, webhook_id="r-2")
    assert Refund.objects.count() == 1


def test_stale_order_update_never_overwrites_newer_state(client, shop_connection):
    newer = load("orders_create.json")
    newer["email"] = "new@example.com"
    older = load("orders_create.json")
    older["email"] = "old@example.com"
    ok = deliver(
        client,
        shop_connection,
        "orders/updated",
        _body(newer),
        webhook_id="u-2",
        triggered_at="2026-07-01T12:00:05Z",
    )
    stale = deliver(
        client,
        shop_connection,
        "orders/updated",
        _body(older),
        webhook_id="u-1",
        triggered_at="2026-07-01T12:00:01Z",
    )
    assert ok.status_code == stale.status_code == 200
    assert stale.applied == ["ignored"]
    assert Order.objects.get().email == "new@example.com"
    kept = WebhookEvent.objects.get(delivery_id="u-1")
    assert kept.body == _body(older).decode()
    assert kept.error.startswith("Ignored")


def test_fulfillment_adds_the_tracking_number_to_the_order(client, shop_connection):
    deliver(
        client,
        shop_connection,
        "orders/create",
        _body(load("orders_create.json")),
        webhook_id="o-1",
    )
    fulfillment = load("fulfillments_create.json")
    response = deliver(
        client, shop_connection, "fulfillments/create", _body(fulfillment), webhook_id="f-1"
    )
    assert response.status_code == 200
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1z827wk74630")
    assert shipment.order.number == "9999"


def test_fulfillment_status_update_moves_the_shipment_and_a_stale_one_does_not(
    client, shop_connection
):
    deliver(
        client,
        shop_connection,
        "orders/create",
        _body(load("orders_create.json")),
        webhook_id="o-1",
    )
    delivered = load("fulfillments_update.json")
    delivered["shipment_status"] = "delivered"
    delivered["updated_at"] = "2026-07-03T10:00:00-04:00"
    in_transit = load("fulfillments_update.json")
    in_transit["shipment_status"] = "in_transit"
    in_transit["updated_at"] = "2026-07-02T10:00:00-04:00"
    deliver(
        client,
        shop_connection,
        "fulfillments/update",
        _body(delivered),
        webhook_id="f-2",
        triggered_at="2026-07-03T14:00:00Z",
    )
    late = deliver(
        client,
        shop_connection,
        "fulfillments/update",
        _body(in_transit),
        webhook_id="f-1",
        triggered_at="2026-07-02T14:00:00Z",
    )
    assert late.applied == ["ignored"]
    assert Shipment.objects.get().status == "delivered"


def test_event_about_an_order_we_do_not_mirror_is_acknowledged(client, shop_connection):
    response = deliver(
        client, shop_connection, "refunds/create", _body(load("refunds_create.json"))
    )
    assert response.status_code == 200
    assert response.applied == ["ignored"]
    assert not Refund.objects.exists()


def test_unsubscribed_topic_is_acknowledged_and_kept(client, shop_connection):
    response = deliver(client, shop_connection, "products/update", _body({"id": 1}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().topic == "products/update"


def test_refund_we_executed_is_not_counted_again_when_its_webhook_arrives(
    client, shop_connection, monkeypatch
):
    deliver(
        client,
        shop_connection,
        "orders/create",
        _body(load("orders_create.json")),
        webhook_id="o-1",
    )
    order = Order.objects.get()
    from integrations.shopify.client import ShopifyClient

    monkeypatch.setattr(
        ShopifyClient,
        "order_transactions",
        lambda self, gid: [
            {
                "id": "gid://shopify/OrderTransaction/1",
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "bogus",
                "amountSet": {"shopMoney": {"amount": "404.95"}},
            }
        ],
    )
    monkeypatch.setattr(
        ShopifyClient,
        "refund_create",
        lambda self, *a, **k: {"id": "gid://shopify/Refund/890088186047892319"},
    )
    executors.refund(order, Decimal("85.00"), idempotency_key="proposal-1", note="damaged")
    deliver(
        client,
        shop_connection,
        "refunds/create",
        _body(load("refunds_create.json")),
        webhook_id="r-1",
    )
    refund = Refund.objects.get()
    assert refund.idempotency_key == "proposal-1"
    order.refresh_from_db()
    assert order.refundable_remainder == Decimal("319.95")
