"""Refunds on Shopify that name what they pay back: one refundCreate carrying the
order's line items (restocked), the shipping, and store credit instead of the card.

The mirrored order comes from Shopify's documented orders/create sample
(``fixtures/orders_create.json``, nothing fulfilled yet). The GraphQL answers are
built from the field names of the Admin GraphQL reference, API version 2026-07:
``RefundInput`` (``refundLineItems``, ``shipping``, ``transactions``,
``refundMethods``), ``RefundLineItemInput`` (``lineItemId``, ``quantity``,
``restockType``), ``ShippingRefundInput`` (``amount``), ``RefundMethodInput``
(``storeCreditRefund``) and ``StoreCreditRefundInput`` (``amount`` as MoneyInput)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import executors
from integrations.commerce import LineRequest, RefundParts, apply_order
from integrations.models import Refund
from integrations.shopify import client as shopify_client
from integrations.shopify import mapping
from tests.factories import make_order

from .conftest import SHOP, load

pytestmark = pytest.mark.django_db

URL = f"https://{SHOP}/admin/api/{shopify_client.API_VERSION}/graphql.json"
ORDER_GID = "gid://shopify/Order/820982911946154508"
SUNGLASSES = "gid://shopify/LineItem/487817672276298554"
COST = {
    "cost": {
        "requestedQueryCost": 10,
        "actualQueryCost": 10,
        "throttleStatus": {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": 1990.0,
            "restoreRate": 100.0,
        },
    }
}
SALE = {
    "id": "gid://shopify/OrderTransaction/389404469",
    "kind": "SALE",
    "status": "SUCCESS",
    "gateway": "bogus",
    "amountSet": {"shopMoney": {"amount": "404.95", "currencyCode": "USD"}},
}


def _answer(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": COST})


def _refunded(amount: str) -> httpx.Response:
    return _answer(
        {
            "refundCreate": {
                "refund": {
                    "id": "gid://shopify/Refund/929361462",
                    "legacyResourceId": "929361462",
                    "createdAt": "2026-07-01T12:00:00Z",
                    "totalRefundedSet": {"shopMoney": {"amount": amount, "currencyCode": "USD"}},
                },
                "userErrors": [],
            }
        }
    )


class FakeAdmin:
    """Answers each operation by name and keeps what was asked of it."""

    def __init__(self, *, refund_amount: str = "99.99", order_node: dict | None = None):
        self.refund_amount = refund_amount
        self.order_node = order_node
        self.asked: list[dict] = []
        self.lose_next_refund = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.asked.append(body)
        operation = body["operationName"]
        if operation == "DeskOrderTransactions":
            return _answer({"order": {"id": ORDER_GID, "transactions": [SALE]}})
        if operation == "DeskOrder":
            return _answer({"order": self.order_node})
        if operation == "DeskRefundCreate":
            if self.lose_next_refund:
                self.lose_next_refund = False
                return httpx.Response(502)
            return _refunded(self.refund_amount)
        raise AssertionError(f"unexpected operation {operation}")

    def calls(self, operation: str) -> list[dict]:
        return [body for body in self.asked if body["operationName"] == operation]

    def refund_input(self) -> dict:
        return self.calls("DeskRefundCreate")[-1]["variables"]["input"]


@pytest.fixture
def mirrored(shop_connection):
    """Order #9999 as the orders/create webhook mirrored it: 404.95 with 10.00 shipping."""
    return apply_order(
        shop_connection, mapping.order_from_rest(load("orders_create.json")), version_at=None
    )


def _shipped_node() -> dict:
    """Order #1001 as Shopify's GraphQL API answers it, its one line fulfilled."""
    line = {
        "id": "gid://shopify/LineItem/1071823177",
        "sku": "SKU-1",
        "title": "Test item",
        "name": "Test item",
        "quantity": 2,
        "originalUnitPriceSet": {"shopMoney": {"amount": "40.00"}},
        "product": {"productType": "Apparel"},
    }
    money = {"shopMoney": {"amount": "80.00", "currencyCode": "USD"}}
    return {
        "id": "gid://shopify/Order/450789469",
        "legacyResourceId": "450789469",
        "name": "#1001",
        "email": "bob.norman@example.com",
        "createdAt": "2026-06-20T10:00:00Z",
        "updatedAt": "2026-06-22T10:00:00Z",
        "processedAt": "2026-06-20T10:00:00Z",
        "cancelledAt": None,
        "tags": [],
        "currencyCode": "USD",
        "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED",
        "sourceName": "web",
        "subtotalPriceSet": money,
        "totalPriceSet": money,
        "totalShippingPriceSet": {"shopMoney": {"amount": "0.00"}},
        "totalTaxSet": {"shopMoney": {"amount": "0.00"}},
        "shippingAddress": None,
        "customer": None,
        "lineItems": {"nodes": [line]},
        "fulfillments": [
            {
                "id": "gid://shopify/Fulfillment/255858046",
                "legacyResourceId": "255858046",
                "status": "SUCCESS",
                "displayStatus": "IN_TRANSIT",
                "createdAt": "2026-06-21T10:00:00Z",
                "updatedAt": "2026-06-22T10:00:00Z",
                "trackingInfo": [{"company": "UPS", "number": "1Z2345", "url": None}],
                "fulfillmentLineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/FulfillmentLineItem/640181798",
                            "quantity": 2,
                            "lineItem": {"id": line["id"], "sku": "SKU-1"},
                        }
                    ]
                },
            }
        ],
    }


@respx.mock
def test_items_and_shipping_go_back_to_the_card_named_by_shopifys_line_ids(mirrored):
    admin = FakeAdmin()
    respx.post(URL).mock(side_effect=admin)
    parts = RefundParts(lines=(LineRequest(sku="SKU2006-001"),), shipping=Decimal("10.00"))
    result = executors.refund(
        mirrored, Decimal("99.99"), idempotency_key="proposal-1", note="damaged", parts=parts
    )
    sent = admin.refund_input()
    # Nothing on #9999 has shipped: the sunglasses go back to stock as a cancel.
    assert sent["refundLineItems"] == [
        {"lineItemId": SUNGLASSES, "quantity": 1, "restockType": "CANCEL"}
    ]
    assert sent["shipping"] == {"amount": "10.00"}
    assert sent["transactions"] == [
        {
            "orderId": ORDER_GID,
            "parentId": SALE["id"],
            "gateway": "bogus",
            "kind": "REFUND",
            "amount": "99.99",
        }
    ]
    assert "refundMethods" not in sent
    assert admin.calls("DeskRefundCreate")[-1]["variables"]["key"] == "proposal-1"
    assert result.detail["lines"] == [{"sku": "SKU2006-001", "quantity": 1}]
    assert result.detail["shipping"] == "10.00"
    assert result.detail["to"] == "original_payment"
    refund = Refund.objects.get(order=mirrored)
    assert (refund.amount, refund.external_id) == (
        Decimal("99.99"),
        "gid://shopify/Refund/929361462",
    )


@respx.mock
def test_store_credit_is_a_refund_method_and_no_payment_is_named(mirrored):
    admin = FakeAdmin(refund_amount="45.00")
    respx.post(URL).mock(side_effect=admin)
    parts = RefundParts(lines=(LineRequest(sku="SKU2006-001"),), to_store_credit=True)
    result = executors.refund(
        mirrored, Decimal("45.00"), idempotency_key="proposal-2", note="", parts=parts
    )
    sent = admin.refund_input()
    assert sent["refundMethods"] == [
        {"storeCreditRefund": {"amount": {"amount": "45.00", "currencyCode": "USD"}}}
    ]
    assert "transactions" not in sent
    assert "shipping" not in sent
    assert sent["refundLineItems"][0]["lineItemId"] == SUNGLASSES
    assert admin.calls("DeskOrderTransactions") == []
    assert result.detail["to"] == "store_credit"
    assert Refund.objects.get(order=mirrored).amount == Decimal("45.00")


@respx.mock
def test_shipped_items_are_restocked_as_a_return_found_in_shopifys_order(shop_connection):
    # A mirror without Shopify's line ids: the order is read from Shopify once.
    order = make_order(shop_connection.tenant, number="1001")
    order.connection = shop_connection
    order.external_id = "450789469"
    order.save(update_fields=["connection", "external_id"])
    admin = FakeAdmin(refund_amount="40.00", order_node=_shipped_node())
    respx.post(URL).mock(side_effect=admin)
    executors.refund(
        order,
        Decimal("40.00"),
        idempotency_key="proposal-3",
        note="",
        parts=RefundParts(lines=(LineRequest(sku="SKU-1"),)),
    )
    assert len(admin.calls("DeskOrder")) == 1
    assert admin.refund_input()["refundLineItems"] == [
        {"lineItemId": "gid://shopify/LineItem/1071823177", "quantity": 1, "restockType": "RETURN"}
    ]
    order.refresh_from_db()
    assert order.raw["lineItems"]["nodes"][0]["id"] == "gid://shopify/LineItem/1071823177"


@respx.mock
def test_the_same_key_asks_shopify_once_and_replays_what_was_asked(mirrored):
    admin = FakeAdmin()
    respx.post(URL).mock(side_effect=admin)
    parts = RefundParts(lines=(LineRequest(sku="SKU2006-001"),), shipping=Decimal("10.00"))
    first = executors.refund(
        mirrored, Decimal("99.99"), idempotency_key="proposal-4", note="", parts=parts
    )
    again = executors.refund(
        mirrored, Decimal("99.99"), idempotency_key="proposal-4", note="", parts=parts
    )
    assert len(admin.calls("DeskRefundCreate")) == 1
    assert again.external_id == first.external_id
    assert again.detail["replayed"] is True
    assert again.detail["lines"] == [{"sku": "SKU2006-001", "quantity": 1}]
    assert Refund.objects.filter(order=mirrored).count() == 1


@respx.mock
def test_a_lost_answer_is_asked_again_with_the_same_key_and_the_same_lines(mirrored):
    admin = FakeAdmin()
    admin.lose_next_refund = True
    respx.post(URL).mock(side_effect=admin)
    parts = RefundParts(lines=(LineRequest(sku="SKU2006-001"),), shipping=Decimal("10.00"))
    executors.refund(mirrored, Decimal("99.99"), idempotency_key="proposal-5", note="", parts=parts)
    sent = [call["variables"] for call in admin.calls("DeskRefundCreate")]
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert sent[0]["key"] == "proposal-5"
    assert Refund.objects.filter(order=mirrored).count() == 1


@respx.mock
def test_a_sku_the_order_does_not_hold_is_refused_before_any_money_moves(mirrored):
    admin = FakeAdmin(order_node=None)
    respx.post(URL).mock(side_effect=admin)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(
            mirrored,
            Decimal("20.00"),
            idempotency_key="proposal-6",
            note="",
            parts=RefundParts(lines=(LineRequest(sku="NOT-SOLD"),)),
        )
    assert caught.value.permanent is True
    assert "NOT-SOLD" in str(caught.value)
    assert admin.calls("DeskRefundCreate") == []


@respx.mock
def test_more_units_than_the_line_holds_are_refused(mirrored):
    admin = FakeAdmin()
    respx.post(URL).mock(side_effect=admin)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(
            mirrored,
            Decimal("20.00"),
            idempotency_key="proposal-7",
            note="",
            parts=RefundParts(lines=(LineRequest(sku="SKU2006-001", quantity=2),)),
        )
    assert caught.value.permanent is True
    assert admin.calls("DeskRefundCreate") == []


@respx.mock
def test_more_shipping_than_was_charged_is_refused(mirrored):
    admin = FakeAdmin()
    respx.post(URL).mock(side_effect=admin)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(
            mirrored,
            Decimal("20.00"),
            idempotency_key="proposal-8",
            note="",
            parts=RefundParts(shipping=Decimal("12.00")),
        )
    assert caught.value.permanent is True
    assert "10.00" in str(caught.value)
    assert admin.asked == []


@respx.mock
def test_a_refund_naming_nothing_sends_the_amount_only(mirrored):
    admin = FakeAdmin(refund_amount="20.00")
    respx.post(URL).mock(side_effect=admin)
    result = executors.refund(mirrored, Decimal("20.00"), idempotency_key="proposal-9", note="")
    sent = admin.refund_input()
    assert set(sent) == {"orderId", "note", "notify", "transactions"}
    assert "lines" not in result.detail
