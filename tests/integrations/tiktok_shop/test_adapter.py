"""The TikTok Shop adapter: declared capabilities, idempotent actions, the connection check."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import connection_checks, executors, providers
from integrations.commerce import Capability, adapter_for_order, apply_order
from integrations.models import Order, Refund
from integrations.tiktok_shop import mapping
from integrations.tiktok_shop.adapter import TikTokShopAdapter
from tests.integrations.tiktok_shop.conftest import API, CIPHER, load

pytestmark = pytest.mark.django_db

ORDERS = f"{API}/order/202309/orders"
RETURNS = f"{API}/return_refund/202309/returns"
CANCELS = f"{API}/return_refund/202309/cancellations"


def _ok(data: dict) -> httpx.Response:
    return httpx.Response(
        200, json={"code": 0, "message": "Success", "request_id": "r", "data": data}
    )


@pytest.fixture
def order(tts_connection) -> Order:
    remote = load("order_detail.json")["data"]["orders"][0]
    return apply_order(tts_connection, mapping.order_from_api(remote), version_at=None)


def test_declares_what_tiktok_shop_has_and_nothing_else(order):
    adapter = adapter_for_order(order)
    assert isinstance(adapter, TikTokShopAdapter)
    assert adapter.supports(Capability.REFUND)
    assert adapter.supports(Capability.CREATE_RETURN)
    assert not adapter.supports(Capability.UPDATE_ADDRESS)
    assert not adapter.supports(Capability.REPLACEMENT)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_replacement(
            order, [executors.LineRequest("TOTE-NAT")], idempotency_key="k"
        )
    assert caught.value.permanent


@respx.mock
def test_refund_is_a_refund_only_request_keyed_by_the_proposal_and_lands_once(order):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    created = respx.post(RETURNS).mock(
        return_value=_ok(
            {
                "return_id": "4035318803058413234",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            }
        )
    )
    first = executors.refund(order, Decimal("10.00"), idempotency_key="proposal-9", note="late")
    again = executors.refund(order, Decimal("10.00"), idempotency_key="proposal-9", note="late")
    assert created.call_count == 1
    assert again.detail["replayed"] is True
    assert first.external_id == again.external_id == "return:4035318803058413234"
    request = created.calls.last.request
    assert request.url.params["idempotency_key"] == "proposal-9"
    body = json.loads(request.content)
    assert body["return_type"] == "REFUND"
    assert body["refund_total"] == "10.00"
    assert body["order_line_item_ids"] == ["577086512123755123", "577086512123755124"]
    assert body["return_reason"] == "ecom_order_delivered_refund_reason_damaged"
    assert Refund.objects.get().amount == Decimal("10.00")


def test_refund_beyond_what_is_left_is_refused_before_calling(order):
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(order, Decimal("500.00"), idempotency_key="p", note="")
    assert caught.value.permanent


@respx.mock
def test_return_names_the_units_of_the_lines_asked_for(order):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    created = respx.post(RETURNS).mock(
        return_value=_ok({"return_id": "77", "return_status": "RETURN_OR_REFUND_REQUEST_PENDING"})
    )
    result = executors.create_return(
        order, [executors.LineRequest("TOTE-NAT", 1)], idempotency_key="ret-1"
    )
    assert result.external_id == "77"
    body = json.loads(created.calls.last.request.content)
    assert body["order_line_item_ids"] == ["577086512123755123"]
    assert body["return_type"] == "RETURN_AND_REFUND"


@respx.mock
def test_cancel_of_a_shipped_order_is_refused_with_the_reason(order):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    respx.post(f"{CANCELS}/search").mock(return_value=_ok({"cancellations": []}))
    with pytest.raises(executors.ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-1")
    assert caught.value.permanent and "IN_TRANSIT" in str(caught.value)


@respx.mock
def test_cancel_already_requested_is_not_requested_again(order):
    answer = load("order_detail.json")
    answer["data"]["orders"][0]["status"] = "AWAITING_SHIPMENT"
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=answer))
    respx.post(f"{CANCELS}/search").mock(
        return_value=_ok(
            {"cancellations": [{"cancel_id": "5", "cancel_status": "CANCELLATION_REQUEST_PENDING"}]}
        )
    )
    create = respx.post(CANCELS).mock(return_value=_ok({"cancel_id": "6"}))
    result = executors.cancel(order, idempotency_key="c-1")
    assert result.detail["replayed"] is True
    assert create.call_count == 0


@respx.mock
def test_cancel_of_an_unshipped_order_sends_the_merchants_reason(order):
    answer = load("order_detail.json")
    answer["data"]["orders"][0]["status"] = "AWAITING_SHIPMENT"
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=answer))
    respx.post(f"{CANCELS}/search").mock(return_value=_ok({"cancellations": []}))
    create = respx.post(CANCELS).mock(
        return_value=_ok({"cancel_id": "6", "cancel_status": "CANCELLATION_REQUEST_SUCCESS"})
    )
    assert executors.cancel(order, idempotency_key="c-1").external_id == "6"
    assert json.loads(create.calls.last.request.content) == {
        "order_id": "576461413038785752",
        "cancel_reason": "seller_cancel_reason_out_of_stock",
    }


@respx.mock
def test_find_order_reads_an_unmirrored_order_from_the_api(tts_connection):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    found = TikTokShopAdapter(tts_connection.tenant, tts_connection).find_order(
        "576461413038785752"
    )
    assert found is not None and found.connection == tts_connection


@respx.mock
def test_connection_check_names_the_shop_or_says_what_tiktok_said(tts_connection):
    shops = f"{API}/authorization/202309/shops"
    respx.get(shops).mock(
        return_value=_ok(
            {
                "shops": [
                    {
                        "id": "7494049642642441621",
                        "name": "Desk Test Shop",
                        "region": "US",
                        "cipher": CIPHER,
                        "code": "USLC1234",
                    }
                ]
            }
        )
    )
    assert "Desk Test Shop" in providers.get("tiktok_shop").check(tts_connection)
    respx.get(shops).mock(
        return_value=httpx.Response(
            401, json={"code": 105002, "message": "Expired credentials", "request_id": "x"}
        )
    )
    result = connection_checks.check(tts_connection)
    assert result.ok is False
    assert "Expired credentials" in result.message


# --- refunds that name what they pay back -------------------------------------


def _tote(quantity: int = 1) -> executors.RefundParts:
    return executors.RefundParts(lines=(executors.LineRequest("TOTE-NAT", quantity),))


def test_refunds_name_lines_but_not_shipping_or_store_credit(order):
    adapter = adapter_for_order(order)
    assert adapter.supports(Capability.REFUND_LINES)
    assert not adapter.supports(Capability.REFUND_SHIPPING)
    assert not adapter.supports(Capability.REFUND_TO_STORE_CREDIT)


@respx.mock
def test_a_refund_naming_one_unit_asks_for_that_unit_only_and_lands_once(order):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    created = respx.post(RETURNS).mock(
        return_value=_ok(
            {
                "return_id": "4035318803058413299",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            }
        )
    )

    first = executors.refund(
        order, Decimal("29.99"), idempotency_key="proposal-12", note="", parts=_tote()
    )
    again = executors.refund(
        order, Decimal("29.99"), idempotency_key="proposal-12", note="", parts=_tote()
    )

    assert created.call_count == 1
    assert first.external_id == again.external_id == "return:4035318803058413299"
    assert again.detail["replayed"] is True
    assert first.detail["lines"] == again.detail["lines"] == [{"sku": "TOTE-NAT", "quantity": 1}]
    assert first.detail["to"] == "original_payment"
    request = created.calls.last.request
    assert request.url.params["idempotency_key"] == "proposal-12"
    body = json.loads(request.content)
    assert body["order_line_item_ids"] == ["577086512123755123"]
    assert body["skus"] == [{"sku_id": "1729385727367431234", "quantity": 1}]
    assert body["return_type"] == "REFUND"
    assert body["refund_total"] == "29.99"
    assert body["currency"] == "USD"


@respx.mock
def test_two_units_of_a_sku_are_two_line_items_and_one_sku_entry(order):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    created = respx.post(RETURNS).mock(return_value=_ok({"return_id": "78"}))

    executors.refund(order, Decimal("50.00"), idempotency_key="p-2u", note="", parts=_tote(2))

    body = json.loads(created.calls.last.request.content)
    assert body["order_line_item_ids"] == ["577086512123755123", "577086512123755124"]
    assert body["skus"] == [{"sku_id": "1729385727367431234", "quantity": 2}]


@pytest.mark.parametrize(
    ("parts", "amount", "message"),
    [
        (
            executors.RefundParts(lines=(executors.LineRequest("MUG-RED"),)),
            "5.00",
            "MUG-RED is not on order",
        ),
        (_tote(3), "5.00", "fewer than 3 of TOTE-NAT"),
        (_tote(1), "35.98", "exceeds the items it names \\(29.99\\)"),
    ],
)
@respx.mock
def test_lines_the_order_does_not_bear_are_refused_before_tiktok_is_asked(
    order, parts, amount, message
):
    respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    created = respx.post(RETURNS)

    with pytest.raises(executors.ExecutionError, match=message) as caught:
        executors.refund(order, Decimal(amount), idempotency_key="p-bad", note="", parts=parts)

    assert caught.value.permanent
    assert not created.called
    assert not Refund.objects.exists()


@respx.mock
def test_a_refund_naming_shipping_is_refused_without_asking_tiktok(order):
    orders = respx.get(ORDERS)
    created = respx.post(RETURNS)

    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(
            order,
            Decimal("5.99"),
            idempotency_key="p-ship",
            note="",
            parts=executors.RefundParts(shipping=Decimal("5.99")),
        )

    assert caught.value.permanent
    assert not orders.called and not created.called
