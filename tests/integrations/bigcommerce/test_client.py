"""The BigCommerce REST client against mocked HTTP: auth, quota headers, retries,
error bodies and both pagination styles."""

from __future__ import annotations

import httpx
import pytest

from integrations.bigcommerce.client import V2_PAGE, BigCommerceClient
from integrations.commerce import ExecutionError
from integrations.connection_checks import CheckFailed
from integrations.ratelimit import SharedBucket
from tests.integrations.bigcommerce.conftest import API, STORE_HASH, TOKEN, load


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def bc(clock):
    return BigCommerceClient(STORE_HASH, TOKEN, sleep=clock.sleep, clock=clock)


def quota_headers(left: int, reset_ms: int = 15000) -> dict[str, str]:
    return {
        "X-Rate-Limit-Time-Window-Ms": "30000",
        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Requests-Left": str(left),
    }


def test_requests_carry_the_token_under_the_store_path(bc, store):
    route = store.get(f"{API}/v2/orders/218").respond(200, json=load("order.json"))
    assert bc.order(218)["status"] == "Awaiting Payment"
    request = route.calls.last.request
    assert request.headers["X-Auth-Token"] == TOKEN
    assert request.headers["Accept"] == "application/json"


def test_429_waits_for_the_window_bigcommerce_names(bc, clock, store):
    store.get(f"{API}/v2/orders/218").mock(
        side_effect=[
            httpx.Response(429, headers=quota_headers(0, reset_ms=4200)),
            httpx.Response(200, json=load("order.json"), headers=quota_headers(149)),
        ]
    )
    assert bc.order(218)["id"] == 218
    assert any(4.2 <= s < 4.5 for s in clock.slept)


def test_the_quota_reported_is_shared_by_every_worker(bc, store):
    store.get(f"{API}/v2/orders/218").respond(
        200, json=load("order.json"), headers=quota_headers(0)
    )
    bc.order(218)
    other_worker = SharedBucket(f"bigcommerce:{STORE_HASH}")
    # Nothing left: the next request anywhere waits ~1/5 s for the quota to refill.
    assert other_worker.reserve(1, max_wait=60) > 0.1


def test_a_queue_longer_than_the_budget_is_a_temporary_error(clock, store):
    bucket = SharedBucket(f"bigcommerce:{STORE_HASH}", capacity=1, restore_rate=0.01)
    bucket.reserve(1, max_wait=0)
    bc = BigCommerceClient(STORE_HASH, TOKEN, bucket=bucket, sleep=clock.sleep, clock=clock)
    with pytest.raises(ExecutionError) as caught:
        bc.order(218)
    assert caught.value.permanent is False
    assert "rate limit" in str(caught.value)


def test_server_errors_are_retried_with_backoff(bc, clock, store):
    store.get(f"{API}/v2/orders/218").mock(
        side_effect=[
            httpx.Response(503, json={"status": 503, "title": "Service Unavailable"}),
            httpx.Response(200, json=load("order.json")),
        ]
    )
    assert bc.order(218)["id"] == 218
    assert len(clock.slept) == 1


def test_a_refund_is_never_resent_blind(bc, store):
    route = store.post(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        503, json={"status": 503, "title": "Service Unavailable"}
    )
    with pytest.raises(ExecutionError) as caught:
        bc.create_refund(218, {"items": [], "payments": []})
    assert caught.value.permanent is False
    assert route.call_count == 1


def test_v2_not_found_reads_as_no_order(bc, store):
    store.get(f"{API}/v2/orders/999").respond(404, json=load("error_v2_not_found.json"))
    assert bc.order(999) is None


def test_v3_validation_error_is_permanent_with_bigcommerce_words(bc, store):
    store.post(f"{API}/v3/hooks").respond(422, json=load("error_v3_unprocessable.json"))
    with pytest.raises(ExecutionError) as caught:
        bc.create_hook("store/order/created", "https://desk.example.com/x", {})
    assert caught.value.permanent is True
    assert "JSON data is missing or invalid" in str(caught.value)
    assert "name: error.expected.jsstring" in str(caught.value)


def test_refund_errors_carry_the_reason(bc, store):
    store.post(f"{API}/v3/orders/1/payment_actions/refunds").respond(
        422, json=load("error_refund_batch.json")
    )
    with pytest.raises(ExecutionError, match="Refund amount was negative") as caught:
        bc.create_refund(1, {"items": [], "payments": []})
    assert caught.value.permanent is True


def test_refused_token_is_permanent(bc, store):
    store.get(f"{API}/v2/orders/218").respond(
        401, json=[{"status": 401, "message": "No credentials."}]
    )
    with pytest.raises(ExecutionError) as caught:
        bc.order(218)
    assert caught.value.permanent is True
    assert "reconnect" in str(caught.value)


def test_v2_lists_are_read_page_by_page_until_a_short_page(bc, store):
    product = load("order_products.json")[0]
    route = store.get(f"{API}/v2/orders/218/products").mock(
        side_effect=[
            httpx.Response(200, json=[product] * V2_PAGE),
            httpx.Response(200, json=[product]),
        ]
    )
    assert len(bc.order_products(218)) == V2_PAGE + 1
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2"]


def test_an_empty_v2_list_is_204(bc, store):
    store.get(f"{API}/v2/orders/218/shipments").respond(204)
    assert bc.order_shipments(218) == []


def test_v3_lists_follow_meta_pagination(bc, store):
    refund = load("refund.json")["data"]

    def page(n: int) -> dict:
        return {
            "data": [{**refund, "id": n}],
            "meta": {
                "pagination": {"total": 2, "per_page": 1, "current_page": n, "total_pages": 2}
            },
        }

    store.get(f"{API}/v3/orders/1/payment_actions/refunds").mock(
        side_effect=[httpx.Response(200, json=page(1)), httpx.Response(200, json=page(2))]
    )
    assert [r["id"] for r in bc.refunds(1)] == [1, 2]


def test_connection_check_reads_the_store_profile(bc_connection, store):
    from integrations.connection_checks import check

    store.get(f"{API}/v2/store").respond(
        200, json={"id": STORE_HASH, "domain": "desk-test.mybigcommerce.com", "name": "Desk Test"}
    )
    result = check(bc_connection)
    assert result.ok
    assert result.message == "Reached Desk Test (desk-test.mybigcommerce.com)."


def test_connection_check_fails_with_the_platform_message(bc_connection, store):
    from integrations.bigcommerce.provider import check_bigcommerce

    store.get(f"{API}/v2/store").respond(
        403,
        json={"status": 403, "title": "You don't have a required scope to access the endpoint"},
    )
    with pytest.raises(CheckFailed, match="required scope"):
        check_bigcommerce(bc_connection)
