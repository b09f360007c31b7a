"""Store credit on Shopify: storeCreditAccountCredit on the order's customer, asked once.

Answer bodies are built from the field names of Shopify's Admin GraphQL reference
(``StoreCreditAccountCreditPayload``, ``StoreCreditAccountCreditTransaction``,
``StoreCreditAccountCreditUserError``), API version 2026-07."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import executors
from integrations.models import Order, StoreCredit
from integrations.shopify import client as shopify_client
from tests.factories import make_customer, make_order

from .conftest import SHOP

pytestmark = pytest.mark.django_db

URL = f"https://{SHOP}/admin/api/{shopify_client.API_VERSION}/graphql.json"
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


def _credited(amount: str = "45.00") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {
                "storeCreditAccountCredit": {
                    "storeCreditAccountTransaction": {
                        "id": "gid://shopify/StoreCreditAccountCreditTransaction/5521",
                        "createdAt": "2026-07-01T12:00:00Z",
                        "amount": {"amount": amount, "currencyCode": "USD"},
                        "account": {
                            "id": "gid://shopify/StoreCreditAccount/318",
                            "balance": {"amount": amount, "currencyCode": "USD"},
                        },
                    },
                    "userErrors": [],
                }
            },
            "extensions": COST,
        },
    )


@pytest.fixture
def shop_order(shop_connection):
    tenant = shop_connection.tenant
    customer = make_customer(tenant)
    customer.external_id = "207119551"
    customer.save(update_fields=["external_id"])
    order = make_order(tenant, total="45.00", customer=customer, shipment_status="delivered")
    Order.objects.filter(pk=order.pk).update(connection=shop_connection, external_id="450789469")
    order.refresh_from_db()
    return order


@respx.mock
def test_credit_goes_to_the_orders_customer_in_the_orders_currency(shop_order):
    route = respx.post(URL).mock(return_value=_credited())
    result = executors.store_credit(
        shop_order, Decimal("45.00"), idempotency_key="proposal-7", note="Desk contact"
    )
    sent = json.loads(route.calls.last.request.content)
    assert "storeCreditAccountCredit(id: $id, creditInput: $creditInput)" in sent["query"]
    assert sent["variables"] == {
        "id": "gid://shopify/Customer/207119551",
        "creditInput": {
            "creditAmount": {"amount": "45.00", "currencyCode": "USD"},
            "notify": False,
        },
    }
    row = StoreCredit.objects.get(order=shop_order)
    assert row.status == StoreCredit.Status.ISSUED
    assert row.external_id == result.external_id
    assert result.external_id == "gid://shopify/StoreCreditAccountCreditTransaction/5521"


@respx.mock
def test_a_second_attempt_with_the_same_key_is_answered_from_the_mirror(shop_order):
    route = respx.post(URL).mock(return_value=_credited())
    executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="proposal-7", note="")
    again = executors.store_credit(
        shop_order, Decimal("45.00"), idempotency_key="proposal-7", note=""
    )
    assert again.detail["replayed"] is True
    assert route.call_count == 1


@respx.mock
def test_a_lost_answer_is_never_asked_again_but_handed_to_a_person(shop_order):
    route = respx.post(URL).mock(return_value=httpx.Response(502))
    with pytest.raises(executors.ExecutionError) as first:
        executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="p-8", note="")
    assert first.value.permanent is False
    with pytest.raises(executors.ExecutionError) as second:
        executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="p-8", note="")
    assert second.value.permanent is True
    assert "Shopify admin" in str(second.value)
    assert route.call_count == 1
    assert StoreCredit.objects.get(order=shop_order).status == StoreCredit.Status.PENDING


@respx.mock
def test_a_refusal_credits_nothing_and_may_be_asked_again(shop_order):
    refused = httpx.Response(
        200,
        json={
            "data": {
                "storeCreditAccountCredit": {
                    "storeCreditAccountTransaction": None,
                    "userErrors": [
                        {
                            "field": ["creditInput", "creditAmount", "currencyCode"],
                            "message": "Currency is not supported",
                            "code": "UNSUPPORTED_CURRENCY",
                        }
                    ],
                }
            },
            "extensions": COST,
        },
    )
    respx.post(URL).mock(side_effect=[refused, _credited()])
    with pytest.raises(executors.ExecutionError) as caught:
        executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="p-9", note="")
    assert caught.value.permanent is True
    assert "Currency is not supported" in str(caught.value)
    assert not StoreCredit.objects.filter(order=shop_order).exists()
    executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="p-9", note="")
    assert StoreCredit.objects.get(order=shop_order).status == StoreCredit.Status.ISSUED


def test_an_order_without_a_shopify_customer_is_refused(shop_order):
    shop_order.customer.external_id = ""
    shop_order.customer.save(update_fields=["external_id"])
    with pytest.raises(executors.ExecutionError) as caught:
        executors.store_credit(shop_order, Decimal("45.00"), idempotency_key="p-10", note="")
    assert caught.value.permanent is True
