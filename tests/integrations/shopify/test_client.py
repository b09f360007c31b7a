"""The Shopify GraphQL client against mocked HTTP: throttling, retries, error model."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx
import pytest
import respx

from integrations.commerce import ExecutionError
from integrations.ratelimit import SharedBucket
from integrations.shopify import client as shopify_client
from integrations.shopify.client import ShopifyClient

SHOP = "desk-test.myshopify.com"
URL = f"https://{SHOP}/admin/api/{shopify_client.API_VERSION}/graphql.json"
ORDER = "gid://shopify/Order/820982911946154508"
SALE = {
    "id": "gid://shopify/OrderTransaction/1",
    "kind": "SALE",
    "status": "SUCCESS",
    "gateway": "bogus",
    "amountSet": {"shopMoney": {"amount": "404.95", "currencyCode": "USD"}},
}


def _cost(available: float, requested: float = 10, actual: float | None = 10) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": available,
                "restoreRate": 50.0,
            },
        }
    }


def _refund_ok(refund_id: str = "gid://shopify/Refund/890088186047892319") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {
                "refundCreate": {
                    "refund": {
                        "id": refund_id,
                        "legacyResourceId": refund_id.rsplit("/", 1)[-1],
                        "createdAt": "2026-07-01T12:00:00Z",
                        "totalRefundedSet": {
                            "shopMoney": {"amount": "20.00", "currencyCode": "USD"}
                        },
                    },
                    "userErrors": [],
                }
            },
            "extensions": _cost(990),
        },
    )


THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ],
    "extensions": _cost(4.0, requested=10, actual=None),
}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def shop(sleeps):
    bucket = SharedBucket(f"test:{uuid.uuid4().hex}")
    yield ShopifyClient(
        SHOP,
        "shpat_test",
        bucket=bucket,
        http=httpx.Client(),
        sleep=sleeps.append,
    )
    bucket.reset()


def _refund(shop: ShopifyClient, key: str = "proposal-42"):
    return shop.refund_create(
        ORDER, Decimal("20.00"), parent_transaction=SALE, idempotency_key=key, note="damaged"
    )


@respx.mock
def test_refund_sends_the_token_and_the_idempotency_key(shop):
    route = respx.post(URL).mock(return_value=_refund_ok())
    refund = _refund(shop)
    assert refund["id"] == "gid://shopify/Refund/890088186047892319"
    request = route.calls.last.request
    assert request.headers["X-Shopify-Access-Token"] == "shpat_test"
    sent = json.loads(request.content)
    assert "@idempotent(key: $key)" in sent["query"]
    assert sent["variables"]["key"] == "proposal-42"
    transaction = sent["variables"]["input"]["transactions"][0]
    assert transaction == {
        "orderId": ORDER,
        "parentId": SALE["id"],
        "gateway": "bogus",
        "kind": "REFUND",
        "amount": "20.00",
    }


@respx.mock
def test_throttled_answer_waits_for_the_bucket_to_refill_then_succeeds(shop, sleeps):
    respx.post(URL).mock(side_effect=[httpx.Response(200, json=THROTTLED), _refund_ok()])
    assert _refund(shop)["id"].endswith("890088186047892319")
    # 10 points needed, 4 available, 50 restored per second: wait 0.12 s.
    assert sleeps and sleeps[-1] == pytest.approx(0.12 + shopify_client.QUEUE_PAD, abs=0.02)


@respx.mock
def test_429_is_retried_after_the_providers_wait(shop, sleeps):
    respx.post(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2.0"}), _refund_ok()]
    )
    _refund(shop)
    assert 2.0 in sleeps


@respx.mock
def test_lost_answer_is_retried_with_the_same_idempotency_key(shop):
    route = respx.post(URL).mock(
        side_effect=[httpx.Response(502), httpx.ReadTimeout("slow"), _refund_ok()]
    )
    _refund(shop)
    keys = {json.loads(call.request.content)["variables"]["key"] for call in route.calls}
    assert route.call_count == 3
    assert keys == {"proposal-42"}


@respx.mock
def test_a_shop_that_stays_down_is_a_temporary_error(shop):
    respx.post(URL).mock(return_value=httpx.Response(503))
    with pytest.raises(ExecutionError) as caught:
        _refund(shop)
    assert caught.value.permanent is False


@respx.mock
def test_user_errors_are_permanent_with_shopifys_message(shop):
    respx.post(URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "data": {
                    "refundCreate": {
                        "refund": None,
                        "userErrors": [
                            {
                                "field": ["transactions", "0", "amount"],
                                "message": "Amount cannot exceed the refundable amount",
                            }
                        ],
                    }
                },
                "extensions": _cost(990),
            },
        )
    )
    with pytest.raises(ExecutionError) as caught:
        _refund(shop)
    assert caught.value.permanent is True
    assert "transactions.0.amount: Amount cannot exceed the refundable amount" in str(caught.value)


@respx.mock
def test_rejected_token_is_permanent(shop):
    respx.post(URL).mock(
        return_value=httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
    )
    with pytest.raises(ExecutionError) as caught:
        _refund(shop)
    assert caught.value.permanent is True


@respx.mock
def test_access_denied_graphql_error_is_permanent(shop):
    respx.post(URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "errors": [
                    {
                        "message": "Access denied for refundCreate field.",
                        "extensions": {"code": "ACCESS_DENIED"},
                    }
                ],
                "extensions": _cost(999),
            },
        )
    )
    with pytest.raises(ExecutionError) as caught:
        _refund(shop)
    assert caught.value.permanent is True
    assert "Access denied" in str(caught.value)


@respx.mock
def test_a_create_that_may_have_happened_is_not_blindly_resent(shop):
    route = respx.post(URL).mock(side_effect=[httpx.Response(502), httpx.Response(200, json={})])
    with pytest.raises(ExecutionError) as caught:
        shop.draft_order_create({"email": "a@example.com", "lineItems": []})
    assert caught.value.permanent is False
    assert route.call_count == 1


@respx.mock
def test_reported_bucket_corrects_the_shared_one(shop):
    respx.post(URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "data": {"order": {"id": ORDER, "transactions": [SALE]}},
                "extensions": _cost(120.0, 3, 3),
            },
        )
    )
    assert shop.order_transactions(ORDER) == [SALE]
    assert shop.bucket.level() == pytest.approx(120.0, abs=5)


def test_only_myshopify_domains_are_called():
    with pytest.raises(ExecutionError):
        ShopifyClient.for_credentials({"shop": "evil.example.com", "access_token": "x"})
    with pytest.raises(ExecutionError):
        ShopifyClient.for_credentials({"shop": SHOP, "access_token": ""})
