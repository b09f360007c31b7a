"""Shopee: signing, the error model, pushes into the mirror, and the adapter's cancel."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import connection_checks, executors
from integrations.commerce import Capability, ExecutionError, adapter_for_order
from integrations.models import Order, Shipment, WebhookEvent
from integrations.shopee.adapter import ShopeeAdapter
from integrations.shopee.client import ShopeeClient, shop_sign
from integrations.shopee.webhooks import signature
from tests.integrations.shopee.conftest import API, PARTNER_KEY, load, push, raw

DETAIL = f"{API}/api/v2/order/get_order_detail"
TRACKING = f"{API}/api/v2/logistics/get_tracking_number"
CANCEL = f"{API}/api/v2/order/cancel_order"


def _tracking() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "error": "",
            "message": "",
            "request_id": "t",
            "response": {"tracking_number": "NVSGDESK000123"},
        },
    )


def _detail(**changes) -> httpx.Response:
    answer = load("get_order_detail.json")
    answer["response"]["order_list"][0].update(changes)
    return httpx.Response(200, json=answer)


def test_request_signature_matches_an_independently_computed_vector():
    # printf '<partner_id><path><timestamp><access_token><shop_id>' | openssl dgst -sha256 -hmac <key>
    assert (
        shop_sign(
            PARTNER_KEY,
            "2001887",
            "/api/v2/order/get_order_detail",
            "1655714431",
            "5a4a6c6e4f4d4c5a",
            "601314",
        )
        == "67fcf04c511dc5e2c9c962cf5f88091902b2fb7151f07c18d4897b51612ffa23"
    )


def test_push_signature_matches_an_independently_computed_vector():
    body = (
        b'{"shop_id":601314,"code":3,"timestamp":1660123127,"data":{"ordersn":'
        b'"220810RFBYN5XW","status":"READY_TO_SHIP","update_time":1660123126}}'
    )
    assert (
        signature(PARTNER_KEY, "https://desk.example.com/webhooks/shopee/3f1d2c4e", body)
        == "d78ceac4d07316d8a6177dd2d1bbec3344cc5a79f977c415d2d3b8f8b5db0fa5"
    )


def _client(sleeps=None) -> ShopeeClient:
    return ShopeeClient(
        "2001887",
        PARTNER_KEY,
        "5a4a6c6e4f4d4c5a",
        "601314",
        now=lambda: 1655714431,
        sleep=(sleeps if sleeps is not None else []).append,
    )


@respx.mock
def test_a_call_carries_the_signed_common_parameters():
    route = respx.get(DETAIL).mock(return_value=_detail())
    assert _client().order("220810RFBYN5XW")["order_sn"] == "220810RFBYN5XW"
    query = route.calls.last.request.url.params
    assert query["partner_id"] == "2001887" and query["shop_id"] == "601314"
    assert query["timestamp"] == "1655714431"
    assert query["sign"] == "67fcf04c511dc5e2c9c962cf5f88091902b2fb7151f07c18d4897b51612ffa23"
    assert "item_list" in query["response_optional_fields"]


@respx.mock
def test_throttling_waits_and_a_shopee_error_is_permanent_with_its_message():
    sleeps: list[float] = []
    respx.get(DETAIL).mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "3"},
                json={"error": "error_too_many_request", "message": "slow down", "request_id": "a"},
            ),
            httpx.Response(
                200,
                json={
                    "error": "error_param",
                    "message": "order_sn_list is invalid",
                    "request_id": "b937c04e",
                },
            ),
        ]
    )
    with pytest.raises(ExecutionError) as caught:
        _client(sleeps).order("bad")
    assert 3.0 in sleeps
    assert caught.value.permanent
    assert "error_param" in str(caught.value) and "b937c04e" in str(caught.value)


@respx.mock
def test_order_list_follows_the_cursor():
    route = respx.get(f"{API}/api/v2/order/get_order_list").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "error": "",
                    "message": "",
                    "request_id": "1",
                    "response": {
                        "more": True,
                        "next_cursor": "20",
                        "order_list": [{"order_sn": "A"}],
                    },
                },
            ),
            httpx.Response(
                200,
                json={
                    "error": "",
                    "message": "",
                    "request_id": "2",
                    "response": {
                        "more": False,
                        "next_cursor": "",
                        "order_list": [{"order_sn": "B"}],
                    },
                },
            ),
        ]
    )
    assert _client().order_list(1660000000, 1660200000) == ["A", "B"]
    assert route.calls[1].request.url.params["cursor"] == "20"


@pytest.mark.django_db
@respx.mock
def test_order_push_mirrors_the_order_with_its_tracking_number(client, shopee_connection):
    respx.get(DETAIL).mock(return_value=_detail())
    respx.get(TRACKING).mock(return_value=_tracking())
    response = push(client, shopee_connection, raw("push_order_status.json"))
    assert response.status_code == 200 and response.applied == ["processed"]
    order = Order.objects.get()
    assert (order.number, order.total, order.currency) == ("220810RFBYN5XW", Decimal("27.9"), "SGD")
    line = order.lines.get()
    assert (line.sku, line.quantity) == ("TOTE-NAT", 2)
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number) == ("ninja_van", "NVSGDESK000123")


@pytest.mark.django_db
def test_bad_signature_is_401_malformed_is_400_both_kept(client, shopee_connection):
    body = raw("push_order_status.json")
    assert push(client, shopee_connection, body, key="wrong").status_code == 401
    assert push(client, shopee_connection, b'{"code": 3,').status_code == 400
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["rejected", "rejected"]
    assert not Order.objects.exists()


@pytest.mark.django_db
@respx.mock
def test_a_repeated_or_late_push_changes_nothing(client, shopee_connection):
    respx.get(DETAIL).mock(return_value=_detail(order_status="COMPLETED", update_time=1660300000))
    respx.get(TRACKING).mock(return_value=_tracking())
    newer = load("push_order_status.json")
    newer["data"].update(status="COMPLETED", update_time=1660300000)
    push(client, shopee_connection, json.dumps(newer).encode())
    respx.get(DETAIL).mock(return_value=_detail())
    late = push(client, shopee_connection, raw("push_order_status.json"))
    assert late.status_code == 200 and late.applied == ["ignored"]
    assert Order.objects.get().fulfillment_status == "completed"
    assert Shipment.objects.count() == 1


@pytest.mark.django_db
@respx.mock
def test_cancel_is_sent_once_and_refused_after_shipping(client, shopee_connection):
    respx.get(DETAIL).mock(return_value=_detail(order_status="READY_TO_SHIP", package_list=[]))
    push(client, shopee_connection, raw("push_order_status.json"))
    order = Order.objects.get()
    adapter = adapter_for_order(order)
    assert isinstance(adapter, ShopeeAdapter)
    assert adapter.supports(Capability.CANCEL) and not adapter.supports(Capability.REFUND)
    cancel = respx.post(CANCEL).mock(
        return_value=httpx.Response(
            200,
            json={
                "error": "",
                "message": "",
                "request_id": "c",
                "response": {"update_time": 1660200000},
            },
        )
    )
    executors.cancel(order, idempotency_key="c-1", reason="customer_request")
    assert json.loads(cancel.calls.last.request.content) == {
        "order_sn": "220810RFBYN5XW",
        "cancel_reason": "CUSTOMER_REQUEST",
    }
    respx.get(DETAIL).mock(return_value=_detail(order_status="IN_CANCEL"))
    assert executors.cancel(order, idempotency_key="c-1").detail["replayed"] is True
    assert cancel.call_count == 1
    respx.get(DETAIL).mock(return_value=_detail(order_status="SHIPPED"))
    with pytest.raises(ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-2")
    assert caught.value.permanent and "SHIPPED" in str(caught.value)


@pytest.mark.django_db
@respx.mock
def test_connection_check_names_the_shop_or_gives_shopees_reason(shopee_connection):
    info = f"{API}/api/v2/shop/get_shop_info"
    respx.get(info).mock(
        return_value=httpx.Response(
            200,
            json={
                "error": "",
                "message": "",
                "request_id": "i",
                "shop_name": "Desk Test Shop",
                "region": "SG",
                "status": "NORMAL",
            },
        )
    )
    assert connection_checks.check(shopee_connection).message.startswith("Reached Desk Test Shop")
    respx.get(info).mock(
        return_value=httpx.Response(
            403, json={"error": "error_auth", "message": "Invalid access_token.", "request_id": "i"}
        )
    )
    result = connection_checks.check(shopee_connection)
    assert result.ok is False and "Invalid access_token" in result.message
