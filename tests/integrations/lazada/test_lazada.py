"""Lazada: signing, the error model, pushes into the mirror, and the adapter's cancel."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import connection_checks, executors
from integrations.commerce import Capability, ExecutionError, adapter_for_order
from integrations.lazada.adapter import LazadaAdapter
from integrations.lazada.client import LazadaClient, sign
from integrations.lazada.webhooks import signature
from integrations.models import Order, Shipment, WebhookEvent
from tests.integrations.lazada.conftest import API, APP_KEY, APP_SECRET, load, push, raw

ORDER = f"{API}/order/get"
ITEMS = f"{API}/order/items/get"
VALIDATE = f"{API}/order/reverse/cancel/validate"
CANCEL = f"{API}/order/reverse/cancel/create"


def _order(**changes) -> httpx.Response:
    answer = load("order_get.json")
    answer["data"].update(changes)
    return httpx.Response(200, json=answer)


def _items(*statuses: str) -> httpx.Response:
    answer = load("order_items_get.json")
    for item, status in zip(answer["data"], statuses, strict=False):
        item["status"] = status
    return httpx.Response(200, json=answer)


def _error(code: str, message: str, kind: str = "ISV") -> httpx.Response:
    return httpx.Response(
        200, json={"type": kind, "code": code, "message": message, "request_id": "0b86d3f2"}
    )


def test_request_signature_matches_the_documented_vector():
    # The documentation's worked GetOrder example, app secret "helloworld".
    params = {
        "app_key": "123456",
        "access_token": "test",
        "timestamp": "1517820392000",
        "sign_method": "sha256",
        "order_id": "1234",
    }
    assert (
        sign("helloworld", "/order/get", params)
        == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    )


def test_push_signature_matches_an_independently_computed_vector():
    # printf '<app_key><body>' | openssl dgst -sha256 -hmac <app_secret>
    assert (
        signature(APP_KEY, APP_SECRET, raw("push_trade_order.json"))
        == "eb619726ea6a9e9db170f43fd4fe15a0570b686f9f3f98e1690d8fba0ff8b0e4"
    )


@respx.mock
def test_a_call_carries_the_signed_common_parameters():
    route = respx.get("https://api.lazada.sg/rest/order/get").mock(return_value=_order())
    client = LazadaClient("123456", "helloworld", "test", "SG", now=lambda: 1517820392.0)
    assert client.order("1234")["order_number"] == "491253082180001"
    query = route.calls.last.request.url.params
    assert query["app_key"] == "123456" and query["sign_method"] == "sha256"
    assert query["timestamp"] == "1517820392000" and query["order_id"] == "1234"
    assert query["sign"] == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"


@respx.mock
def test_a_ban_waits_as_long_as_lazada_says_and_an_isv_error_is_permanent():
    sleeps: list[float] = []
    respx.get(ORDER).mock(
        side_effect=[
            _error(
                "ApiCallLimit",
                "The request has exceeded the limit, This ban will last 3 more seconds",
            ),
            _error("E0101", "Order ID not found or invalid"),
        ]
    )
    client = LazadaClient(APP_KEY, APP_SECRET, "t", "SG", sleep=sleeps.append)
    with pytest.raises(ExecutionError) as caught:
        client.order("1")
    assert 3.0 in sleeps
    assert caught.value.permanent
    assert "E0101" in str(caught.value) and "0b86d3f2" in str(caught.value)


@respx.mock
def test_a_backend_error_is_retried_and_a_bad_token_asks_to_reconnect():
    sleeps: list[float] = []
    respx.get(ORDER).mock(
        side_effect=[
            _error("ServiceTimeout", "The service timed out", kind="ISP"),
            _order(),
        ]
    )
    client = LazadaClient(APP_KEY, APP_SECRET, "t", "SG", sleep=sleeps.append)
    assert client.order("491253082180001")["order_id"] == "491253082180001"
    assert len(sleeps) == 1
    respx.get(ORDER).mock(
        return_value=_error(
            "IllegalAccessToken", "The specified access token is invalid or expired"
        )
    )
    with pytest.raises(ExecutionError) as caught:
        client.order("491253082180001")
    assert caught.value.permanent and "reconnect" in str(caught.value)


@respx.mock
def test_orders_updated_pages_by_offset_until_the_total():
    first = {
        "code": "0",
        "data": {"count": 2, "countTotal": 3, "orders": [{"order_id": 1}, {"order_id": 2}]},
    }
    second = {"code": "0", "data": {"count": 1, "countTotal": 3, "orders": [{"order_id": 3}]}}
    route = respx.get(f"{API}/orders/get").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    client = LazadaClient(APP_KEY, APP_SECRET, "t", "SG")
    found = client.orders_updated("2024-03-01T00:00:00+08:00")
    assert [o["order_id"] for o in found] == [1, 2, 3]
    assert route.calls[1].request.url.params["offset"] == "2"
    assert route.calls[0].request.url.params["update_after"] == "2024-03-01T00:00:00+08:00"


@pytest.mark.django_db
@respx.mock
def test_order_push_mirrors_the_order_its_lines_and_tracking(client, lazada_connection):
    respx.get(ORDER).mock(return_value=_order())
    respx.get(ITEMS).mock(return_value=_items())
    response = push(client, lazada_connection, raw("push_trade_order.json"))
    assert response.status_code == 200 and response.applied == ["processed"]
    order = Order.objects.get()
    assert (order.number, order.currency) == ("491253082180001", "SGD")
    assert order.total == Decimal("57.99")  # 58.00 + 1.99 shipping - 2.00 voucher
    lines = {line.sku: line.quantity for line in order.lines.all()}
    assert lines == {"TOTE-NAT": 2, "MUG-BLU": 1}
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number) == ("lex_sg", "LXSGDESK000123")
    assert order.shipping_address["city"] == "Singapore"


@pytest.mark.django_db
def test_bad_signature_is_401_malformed_is_400_both_kept(client, lazada_connection):
    body = raw("push_trade_order.json")
    assert push(client, lazada_connection, body, secret="wrong").status_code == 401
    assert push(client, lazada_connection, b'{"message_type": 0,').status_code == 400
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["rejected", "rejected"]
    assert not Order.objects.exists()


@pytest.mark.django_db
@respx.mock
def test_a_redelivered_push_is_a_duplicate_and_a_late_one_changes_nothing(
    client, lazada_connection
):
    respx.get(ORDER).mock(
        return_value=_order(statuses=["delivered"], updated_at="2024-03-07T11:00:00+08:00")
    )
    respx.get(ITEMS).mock(return_value=_items("delivered", "delivered", "delivered"))
    newer = json.loads(raw("push_trade_order.json"))
    newer["data"].update(order_status="delivered", status_update_time=1709780400)
    push(client, lazada_connection, json.dumps(newer).encode())

    again = push(client, lazada_connection, json.dumps(newer).encode())
    assert again.json()["status"] == "duplicate" and again.applied == []

    respx.get(ORDER).mock(return_value=_order())
    respx.get(ITEMS).mock(return_value=_items())
    late = push(client, lazada_connection, raw("push_trade_order.json"))
    assert late.status_code == 200 and late.applied == ["ignored"]
    assert Order.objects.get().fulfillment_status == "delivered"


@pytest.mark.django_db
@respx.mock
def test_a_push_for_another_seller_is_ignored(client, lazada_connection):
    other = json.loads(raw("push_trade_order.json"))
    other["seller_id"] = "999"
    assert push(client, lazada_connection, json.dumps(other).encode()).applied == ["ignored"]
    assert not Order.objects.exists()


@pytest.mark.django_db
@respx.mock
def test_cancel_sends_the_open_items_once_and_is_refused_after_shipping(client, lazada_connection):
    respx.get(ORDER).mock(return_value=_order(statuses=["pending"]))
    respx.get(ITEMS).mock(return_value=_items("pending", "pending", "pending"))
    push(client, lazada_connection, raw("push_trade_order.json"))
    order = Order.objects.get()
    adapter = adapter_for_order(order)
    assert isinstance(adapter, LazadaAdapter)
    assert adapter.supports(Capability.CANCEL) and not adapter.supports(Capability.REFUND)

    respx.get(VALIDATE).mock(
        return_value=httpx.Response(
            200,
            json={
                "code": "0",
                "data": {
                    "tip_type": "warning",
                    "tip_content": "SKU stock may be set to 0",
                    "reason_options": [
                        {"reason_name": "Sourcing Delay", "reason_id": "10000019"},
                        {"reason_name": "Out of Stock", "reason_id": "10000021"},
                    ],
                },
                "request_id": "v",
            },
        )
    )
    cancel = respx.get(CANCEL).mock(
        return_value=httpx.Response(
            200,
            json={
                "code": "0",
                "data": {"tip_type": "success", "tip_content": "The order has been cancelled"},
                "request_id": "c",
            },
        )
    )
    executors.cancel(order, idempotency_key="c-1", reason="out_of_stock")
    sent = cancel.calls.last.request.url.params
    assert sent["order_id"] == "491253082180001" and sent["reason_id"] == "10000021"
    assert sent["order_item_id_list"] == "[491253082280001,491253082280002,491253082280003]"

    respx.get(ITEMS).mock(return_value=_items("canceled", "canceled", "canceled"))
    assert executors.cancel(order, idempotency_key="c-1").detail["replayed"] is True
    assert cancel.call_count == 1

    respx.get(ITEMS).mock(return_value=_items("shipped", "shipped", "delivered"))
    with pytest.raises(ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-2")
    assert caught.value.permanent and "shipped" in str(caught.value)


@pytest.mark.django_db
@respx.mock
def test_connection_check_names_the_seller_or_gives_lazadas_reason(lazada_connection):
    route = respx.get(f"{API}/seller/get")
    route.mock(
        return_value=httpx.Response(
            200,
            json={
                "code": "0",
                "data": {
                    "name": "Desk Test Shop",
                    "seller_id": 1000114855,
                    "location": "Singapore",
                },
                "request_id": "s",
            },
        )
    )
    assert connection_checks.check(lazada_connection).message.startswith("Reached Desk Test Shop")
    route.mock(
        return_value=_error(
            "IllegalAccessToken", "The specified access token is invalid or expired"
        )
    )
    result = connection_checks.check(lazada_connection)
    assert result.ok is False and "access token is invalid" in result.message
