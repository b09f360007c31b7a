"""The Magento REST client against mocked HTTP: auth, paging, throttling, error model."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl, unquote

import httpx
import pytest
import respx

from integrations.commerce import ExecutionError
from integrations.magento import client as magento_client
from integrations.magento.client import (
    MagentoClient,
    error_message,
    oauth_base_string,
    oauth_header,
    oauth_signature,
)
from integrations.ratelimit import SharedBucket
from tests.integrations.magento.conftest import API, BASE_URL, page


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def bucket():
    bucket = SharedBucket(f"test:{uuid.uuid4().hex}", capacity=100, restore_rate=10)
    yield bucket
    bucket.reset()


@pytest.fixture
def store(sleeps, bucket):
    return MagentoClient(
        BASE_URL, "integration-token", bucket=bucket, http=httpx.Client(), sleep=sleeps.append
    )


# --- OAuth 1.0a ----------------------------------------------------------------


def test_oauth_signature_matches_the_oauth_core_appendix_vector():
    # OAuth Core 1.0, Appendix A.5: the photos example, HMAC-SHA1.
    base = oauth_base_string(
        "GET",
        "http://photos.example.net/photos",
        [
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ],
    )
    assert base == (
        "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg"
        "%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh"
        "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096"
        "%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
    )
    assert oauth_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == (
        "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
    )


def test_oauth_header_carries_the_vector_signature():
    header = oauth_header(
        "GET",
        "http://photos.example.net/photos",
        [("file", "vacation.jpg"), ("size", "original")],
        consumer_key="dpf43f3p2l4k3l03",
        consumer_secret="kd94hf93k423kf44",
        token="nnch734d00sl2jdk",
        token_secret="pfkkdhi9sl3r4s00",
        nonce="kllo9940pd9333jh",
        timestamp=1191242096,
    )
    assert header.startswith("OAuth ")
    assert 'oauth_signature="tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D"' in header


@respx.mock
def test_signed_requests_sign_the_search_criteria_too(bucket):
    route = respx.get(f"{API}/orders").mock(return_value=httpx.Response(200, json=page([])))
    store = MagentoClient(
        BASE_URL,
        "token-1",
        consumer_key="ck",
        consumer_secret="cs",
        access_token_secret="ts",
        bucket=bucket,
        http=httpx.Client(),
    )
    store.orders_by_increment_id("000000003")
    request = route.calls.last.request
    header = request.headers["Authorization"]
    fields = dict(
        (k, unquote(v.strip('"')))
        for k, v in (p.split("=", 1) for p in header.removeprefix("OAuth ").split(", "))
    )
    assert fields["oauth_consumer_key"] == "ck"
    assert fields["oauth_token"] == "token-1"
    query = parse_qsl(request.url.query.decode())
    oauth = [(k, v) for k, v in fields.items() if k != "oauth_signature"]
    expected = oauth_signature(
        oauth_base_string("GET", f"{API}/orders", [*query, *oauth]), "cs", "ts"
    )
    assert fields["oauth_signature"] == expected
    assert ("searchCriteria[filter_groups][0][filters][0][value]", "000000003") in query


@respx.mock
def test_a_bare_access_token_is_sent_as_a_bearer_token(store):
    route = respx.get(f"{API}/orders/3").mock(
        return_value=httpx.Response(200, json={"entity_id": 3})
    )
    store.order(3)
    assert route.calls.last.request.headers["Authorization"] == "Bearer integration-token"


def test_store_code_goes_in_the_path():
    store = MagentoClient(BASE_URL + "/", "t", store_code="de", bucket=SharedBucket("x"))
    assert store.url("orders/3") == f"{BASE_URL}/rest/de/V1/orders/3"


# --- paging ------------------------------------------------------------------------


@respx.mock
def test_search_pages_until_the_total_count(store, monkeypatch):
    monkeypatch.setattr(magento_client, "PAGE_SIZE", 2)
    route = respx.get(f"{API}/shipments").mock(
        side_effect=[
            httpx.Response(200, json=page([{"entity_id": 1}, {"entity_id": 2}], total=3)),
            httpx.Response(200, json=page([{"entity_id": 3}], total=3)),
        ]
    )
    found = store.shipments(3)
    assert [s["entity_id"] for s in found] == [1, 2, 3]
    pages = [dict(parse_qsl(c.request.url.query.decode())) for c in route.calls]
    assert [p["searchCriteria[currentPage]"] for p in pages] == ["1", "2"]
    assert {p["searchCriteria[pageSize]"] for p in pages} == {"2"}


@respx.mock
def test_recent_orders_by_email_sort_newest_first_and_stop_at_the_limit(store):
    route = respx.get(f"{API}/orders").mock(
        return_value=httpx.Response(200, json=page([{"entity_id": 9}, {"entity_id": 8}], total=40))
    )
    assert len(store.orders_by_email("roni_cost@example.com", limit=2)) == 2
    sent = dict(parse_qsl(route.calls.last.request.url.query.decode()))
    assert sent["searchCriteria[sortOrders][0][field]"] == "created_at"
    assert sent["searchCriteria[sortOrders][0][direction]"] == "DESC"
    assert sent["searchCriteria[filter_groups][0][filters][0][field]"] == "customer_email"
    assert route.call_count == 1


# --- errors and retries ------------------------------------------------------------


def test_error_messages_fill_positional_and_named_parameters():
    assert error_message(
        {"message": "Invalid product data: %1", "parameters": ["Invalid attribute set entity type"]}
    ) == ("Invalid product data: Invalid attribute set entity type")
    assert error_message(
        {
            "message": "The consumer isn't authorized to access %resources.",
            "parameters": {"resources": "Magento_Sales::sales"},
        }
    ) == ("The consumer isn't authorized to access Magento_Sales::sales.")


@respx.mock
def test_a_refused_refund_is_permanent_and_says_what_magento_said(store):
    respx.post(f"{API}/order/3/refund").mock(
        return_value=httpx.Response(
            400,
            json={
                "message": "The most money available to refund is %1.",
                "parameters": ["$26.39"],
            },
        )
    )
    with pytest.raises(ExecutionError) as caught:
        store.refund_order(3, {"items": []})
    assert caught.value.permanent is True
    assert "The most money available to refund is $26.39." in str(caught.value)


@respx.mock
def test_401_is_permanent(store):
    respx.get(f"{API}/orders/3").mock(
        return_value=httpx.Response(
            401,
            json={
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Magento_Sales::actions_view"},
            },
        )
    )
    with pytest.raises(ExecutionError) as caught:
        store.order(3)
    assert caught.value.permanent is True
    assert "Magento_Sales::actions_view" in str(caught.value)


@respx.mock
def test_429_waits_for_retry_after_then_succeeds(store, sleeps):
    respx.get(f"{API}/orders/3").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "3"},
                json={"message": "Too Many Requests", "trace": None},
            ),
            httpx.Response(200, json={"entity_id": 3}),
        ]
    )
    assert store.order(3) == {"entity_id": 3}
    assert 3.0 in sleeps


@respx.mock
def test_a_429_slows_every_worker_on_the_store(store, bucket):
    respx.get(f"{API}/orders/3").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "5"}),
            httpx.Response(200, json={"entity_id": 3}),
        ]
    )
    before = bucket.level()
    store.order(3)
    # Five seconds of this store's rate are taken from the shared bucket.
    assert bucket.level() < before - 5 * magento_client.BUCKET_RATE + 5


@respx.mock
def test_temporary_errors_are_retried_with_backoff(store, sleeps):
    route = respx.get(f"{API}/orders/3").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json={"entity_id": 3}),
        ]
    )
    store.order(3)
    assert route.call_count == 3
    assert len(sleeps) == 2


@respx.mock
def test_a_refund_whose_answer_was_lost_is_not_sent_again(store):
    route = respx.post(f"{API}/invoice/3/refund").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ExecutionError) as caught:
        store.refund_invoice(3, {"isOnline": True})
    assert caught.value.permanent is False
    assert route.call_count == 1


@respx.mock
def test_giving_up_after_max_attempts_is_temporary(store):
    respx.get(f"{API}/orders/3").mock(return_value=httpx.Response(502))
    with pytest.raises(ExecutionError) as caught:
        store.order(3)
    assert caught.value.permanent is False
    assert "after 5 attempts" in str(caught.value)


# --- the shared limiter ------------------------------------------------------------


@respx.mock
def test_workers_share_one_bucket_per_store_so_a_burst_queues():
    bucket_name = f"test:{uuid.uuid4().hex}"
    waits: list[float] = []
    respx.get(f"{API}/orders/3").mock(return_value=httpx.Response(200, json={"entity_id": 3}))
    workers = [
        MagentoClient(
            BASE_URL,
            "t",
            bucket=SharedBucket(bucket_name, capacity=2, restore_rate=1),
            http=httpx.Client(),
            sleep=waits.append,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers * 2:
            worker.order(3)
    finally:
        SharedBucket(bucket_name).reset()
    # Two calls fit the bucket; the third and fourth wait about 1 s and 2 s.
    assert len(waits) == 2
    assert waits[0] == pytest.approx(1 + magento_client.QUEUE_PAD, abs=0.2)
    assert waits[1] == pytest.approx(2 + magento_client.QUEUE_PAD, abs=0.3)


def test_for_credentials_refuses_a_connection_without_a_url_or_token():
    with pytest.raises(ExecutionError):
        MagentoClient.for_credentials({"base_url": "shop.example.test", "access_token": "t"})
    with pytest.raises(ExecutionError):
        MagentoClient.for_credentials({"base_url": BASE_URL})


def test_json_bodies_are_not_part_of_the_signature():
    # RFC 5849 3.4.1.3: only form-encoded bodies are signed; Magento's JSON is not.
    header = oauth_header(
        "POST",
        f"{API}/order/3/refund",
        [],
        consumer_key="a",
        consumer_secret="b",
        token="c",
        token_secret="d",
        nonce="n",
        timestamp=1,
    )
    again = oauth_header(
        "POST",
        f"{API}/order/3/refund",
        [],
        consumer_key="a",
        consumer_secret="b",
        token="c",
        token_secret="d",
        nonce="n",
        timestamp=1,
    )
    assert header == again
    assert json.dumps({"x": 1}) not in header
