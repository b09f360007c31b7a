"""The TikTok Shop client against mocked HTTP: signing, pagination, throttling, errors."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from integrations.commerce import ExecutionError
from integrations.ratelimit import SharedBucket
from integrations.tiktok_shop.client import TikTokShopClient, sign
from tests.integrations.tiktok_shop.conftest import API, APP_KEY, APP_SECRET, CIPHER, load

ORDERS = f"{API}/order/202309/orders"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def shop(sleeps):
    bucket = SharedBucket(f"test:{uuid.uuid4().hex}", capacity=10, restore_rate=10)
    yield TikTokShopClient(
        APP_KEY,
        APP_SECRET,
        "ROW_test_token",
        CIPHER,
        bucket=bucket,
        http=httpx.Client(),
        sleep=sleeps.append,
        now=lambda: 1697708762,
    )
    bucket.reset()


def test_request_signature_matches_an_independently_computed_vector():
    # printf '<secret><path><sorted key+value><secret>' | openssl dgst -sha256 -hmac <secret>
    params = {
        "app_key": APP_KEY,
        "ids": "576461413038785752",
        "shop_cipher": CIPHER,
        "timestamp": "1697708762",
        "access_token": "never signed",
        "sign": "never signed",
    }
    assert (
        sign(APP_SECRET, "/order/202309/orders", params)
        == "51f414e7a05c9130d66d25725d2d9f9e879544d17c19fbe77bb79c6bd8e811f6"
    )


def test_a_json_body_is_signed_after_the_parameters():
    params = {
        "app_key": APP_KEY,
        "page_size": 50,
        "shop_cipher": CIPHER,
        "timestamp": "1697708762",
    }
    body = b'{"order_status":"AWAITING_SHIPMENT"}'
    assert (
        sign(APP_SECRET, "/order/202309/orders/search", params, body)
        == "0b39f632313baf0913fba886db5be4ec72d4637c6864cb72a9215f8879d7af9d"
    )


@respx.mock
def test_a_call_carries_the_signed_query_and_the_token_header(shop):
    route = respx.get(ORDERS).mock(return_value=httpx.Response(200, json=load("order_detail.json")))
    order = shop.order("576461413038785752")
    assert order["id"] == "576461413038785752"
    request = route.calls.last.request
    assert request.headers["x-tts-access-token"] == "ROW_test_token"
    query = dict(request.url.params)
    assert query["app_key"] == APP_KEY
    assert query["shop_cipher"] == CIPHER
    assert query["timestamp"] == "1697708762"
    assert query["sign"] == "51f414e7a05c9130d66d25725d2d9f9e879544d17c19fbe77bb79c6bd8e811f6"
    assert "access_token" not in query


@respx.mock
def test_order_search_follows_next_page_token(shop):
    first = {
        "code": 0,
        "message": "Success",
        "request_id": "r1",
        "data": {
            "orders": [{"id": "1"}, {"id": "2"}],
            "next_page_token": "page-2",
            "total_count": 3,
        },
    }
    second = {
        "code": 0,
        "message": "Success",
        "request_id": "r2",
        "data": {"orders": [{"id": "3"}], "next_page_token": "", "total_count": 3},
    }
    route = respx.post(f"{ORDERS}/search").mock(
        side_effect=[httpx.Response(200, json=first), httpx.Response(200, json=second)]
    )
    found = shop.search_orders({"buyer_user_id": "7021436810468230477"}, limit=10)
    assert [o["id"] for o in found] == ["1", "2", "3"]
    assert "page_token" not in route.calls[0].request.url.params
    assert route.calls[1].request.url.params["page_token"] == "page-2"
    assert json.loads(route.calls[1].request.content) == {"buyer_user_id": "7021436810468230477"}


@respx.mock
def test_429_waits_as_asked_and_then_succeeds(shop, sleeps):
    respx.get(ORDERS).mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "2"},
                json={"code": 429, "message": "Too many requests", "request_id": "r"},
            ),
            httpx.Response(200, json=load("order_detail.json")),
        ]
    )
    assert shop.order("576461413038785752") is not None
    assert 2.0 in sleeps


@respx.mock
def test_server_errors_are_retried_with_backoff_then_reported_as_temporary(shop, sleeps):
    route = respx.get(ORDERS).mock(return_value=httpx.Response(503, text="unavailable"))
    with pytest.raises(ExecutionError) as caught:
        shop.order("576461413038785752")
    assert caught.value.permanent is False
    assert route.call_count == shop.max_attempts
    assert len(sleeps) == shop.max_attempts - 1


@respx.mock
def test_a_platform_error_is_permanent_and_carries_code_message_and_request_id(shop):
    respx.post(f"{API}/return_refund/202309/returns").mock(
        return_value=httpx.Response(
            200,
            json={
                "code": 12019005,
                "message": "The order is not eligible for a return",
                "request_id": "2024031509245101",
                "data": {},
            },
        )
    )
    with pytest.raises(ExecutionError) as caught:
        shop.create_return({"order_id": "1"}, idempotency_key="proposal-1")
    assert caught.value.permanent is True
    message = str(caught.value)
    assert "12019005" in message and "not eligible" in message and "2024031509245101" in message


@respx.mock
def test_create_return_sends_the_idempotency_key_tiktok_honours(shop):
    route = respx.post(f"{API}/return_refund/202309/returns").mock(
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
    created = shop.create_return(
        {"order_id": "1", "return_type": "REFUND"}, idempotency_key="proposal-7"
    )
    assert created["return_id"] == "4035318803058413234"
    request = route.calls.last.request
    assert request.url.params["idempotency_key"] == "proposal-7"
    # The signature covers the body exactly as sent.
    params = dict(request.url.params)
    assert params["sign"] == sign(
        APP_SECRET, "/return_refund/202309/returns", params, request.content
    )
