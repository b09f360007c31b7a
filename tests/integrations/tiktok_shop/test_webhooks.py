"""TikTok Shop pushes: signature, malformed bodies, redelivery, ordering, and the mirror."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import executors
from integrations.models import Order, Refund, Shipment, WebhookEvent
from integrations.tiktok_shop.webhooks import signature
from tests.integrations.tiktok_shop.conftest import API, APP_KEY, APP_SECRET, load, push, raw

pytestmark = pytest.mark.django_db

ORDERS = f"{API}/order/202309/orders"
RETURNS_SEARCH = f"{API}/return_refund/202309/returns/search"


def _order(**changes) -> dict:
    answer = load("order_detail.json")
    answer["data"]["orders"][0].update(changes)
    return answer


def test_push_signature_matches_an_independently_computed_vector():
    # printf '<app_key><body>' | openssl dgst -sha256 -hmac <app_secret>
    body = (
        b'{"type":1,"shop_id":"7494049642642441621","timestamp":1644412885,"data":'
        b'{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT",'
        b'"update_time":1644412882}}'
    )
    assert (
        signature(APP_KEY, APP_SECRET, body)
        == "6ea3c56d0f86f5701d27409389e5a829d2048f48bc11a71b231444d144890fff"
    )


@respx.mock
def test_order_status_change_mirrors_the_order_read_back_from_the_api(client, tts_connection):
    route = respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    response = push(client, tts_connection, raw("webhook_order_status_change.json"))
    assert response.status_code == 200, response.content
    assert response.applied == ["processed"]
    assert route.calls.last.request.url.params["ids"] == "576461413038785752"
    order = Order.objects.get(tenant=tts_connection.tenant)
    assert (order.number, order.external_id) == ("576461413038785752", "576461413038785752")
    assert order.total == Decimal("65.97")
    assert order.shipping_total == Decimal("5.99")
    assert order.shipping_address["city"] == "Los Angeles"
    assert order.shipping_address["country_code"] == "US"
    line = order.lines.get()
    assert (line.sku, line.quantity, line.unit_price) == ("TOTE-NAT", 2, Decimal("29.99"))
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number) == ("usps", "9400111899223197428490")
    assert shipment.status == "in_transit"
    assert order.raw["buyer_email"] == "v3d8x0k2@scs.tiktokw.us"
    kept = WebhookEvent.objects.get()
    assert kept.body == raw("webhook_order_status_change.json").decode()


def test_bad_signature_is_401_and_the_raw_body_is_kept(client, tts_connection):
    body = raw("webhook_order_status_change.json")
    response = push(client, tts_connection, body, secret="not-the-secret")
    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.body == body.decode()
    assert not Order.objects.exists()


def test_missing_signature_is_401(client, tts_connection):
    assert push(client, tts_connection, b"{}", auth="").status_code == 401


def test_malformed_body_is_400_and_kept(client, tts_connection):
    response = push(client, tts_connection, b'{"type": 1,')
    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED


def test_event_without_data_is_accepted_then_fails_with_the_reason(client, tts_connection):
    response = push(client, tts_connection, b'{"type": 1, "shop_id": "7494049642642441621"}')
    assert response.status_code == 200
    assert response.applied == ["failed"]
    assert "no data" in WebhookEvent.objects.get().error


@respx.mock
def test_an_older_status_change_never_overwrites_newer_state(client, tts_connection):
    newer = _order(status="DELIVERED", update_time=1710600000)
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=newer))
    late = load("webhook_order_status_change.json")
    late["data"]["update_time"] = 1710700000  # the event that made it DELIVERED
    late["tts_notification_id"] = "7327112393057372000"
    push(client, tts_connection, json.dumps(late).encode())
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=_order(status="IN_TRANSIT")))
    stale = push(client, tts_connection, raw("webhook_order_status_change.json"))
    assert stale.status_code == 200
    assert stale.applied == ["ignored"]
    assert Order.objects.get().fulfillment_status == "delivered"


@respx.mock
def test_completed_refund_is_mirrored_once_however_often_it_is_pushed(client, tts_connection):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    respx.post(RETURNS_SEARCH).mock(
        return_value=httpx.Response(200, json=load("returns_search.json"))
    )
    push(client, tts_connection, raw("webhook_order_status_change.json"))
    body = raw("webhook_return_status_change.json")
    first = push(client, tts_connection, body)
    again = push(client, tts_connection, body)
    # TikTok pushes the same completed return again under a new notification id.
    renotified = json.loads(body)
    renotified["tts_notification_id"] = "7327112393057372111"
    later = push(client, tts_connection, json.dumps(renotified).encode())
    assert first.status_code == again.status_code == later.status_code == 200
    assert first.applied == later.applied == ["processed"]
    assert again.json() == {"status": "duplicate"}
    refund = Refund.objects.get()
    assert refund.amount == Decimal("29.99")
    assert refund.external_id == "return:4035318803058413234"


@respx.mock
def test_refund_we_started_is_not_counted_again_when_tiktok_reports_it(client, tts_connection):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    push(client, tts_connection, raw("webhook_order_status_change.json"))
    respx.post(f"{API}/return_refund/202309/returns").mock(
        return_value=httpx.Response(
            200,
            json={
                "code": 0,
                "message": "Success",
                "request_id": "r",
                "data": {
                    "return_id": "4035318803058413234",
                    "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                },
            },
        )
    )
    order = Order.objects.get()
    executors.refund(order, Decimal("29.99"), idempotency_key="proposal-1", note="damaged")
    respx.post(RETURNS_SEARCH).mock(
        return_value=httpx.Response(200, json=load("returns_search.json"))
    )
    push(client, tts_connection, raw("webhook_return_status_change.json"))
    refund = Refund.objects.get()
    assert refund.idempotency_key == "proposal-1"
    order.refresh_from_db()
    assert order.refundable_remainder == Decimal("35.98")


def test_return_still_in_progress_is_acknowledged_and_changes_nothing(client, tts_connection):
    pending = load("webhook_return_status_change.json")
    pending["data"]["return_status"] = "RETURN_OR_REFUND_REQUEST_PENDING"
    response = push(client, tts_connection, json.dumps(pending).encode())
    assert response.applied == ["ignored"]
    assert not Refund.objects.exists()


@respx.mock
def test_a_temporary_api_failure_leaves_the_event_for_the_worker_to_retry(client, tts_connection):
    respx.get(ORDERS).mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(executors.ExecutionError):
        push(client, tts_connection, raw("webhook_order_status_change.json"))
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED
