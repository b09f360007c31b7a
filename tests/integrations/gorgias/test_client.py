"""The Gorgias REST client against replayed answers: auth, the shared rate limit,
429 and 5xx handling, error bodies and cursor pagination."""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from integrations.gorgias.client import GorgiasError
from tests.integrations.gorgias.conftest import API, fixture, make_client

pytestmark = pytest.mark.django_db


def test_calls_authenticate_with_the_user_email_and_api_key(bucket):
    client = make_client(bucket)
    with respx.mock(assert_all_called=True) as api:
        route = api.get(f"{API}/account").respond(200, json=fixture("account.json"))
        assert client.account()["domain"] == "northwind"
    expected = base64.b64encode(b"desk-bot@northwind.example:gorgias-api-key").decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"


def test_a_429_is_retried_after_the_wait_gorgias_asks_for(bucket):
    client = make_client(bucket)
    with respx.mock() as api:
        route = api.get(f"{API}/account")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "Too many requests"}),
            httpx.Response(200, json=fixture("account.json")),
        ]
        assert client.account()["domain"] == "northwind"
    assert route.call_count == 2
    assert client.sleeps == [3.0]


def test_a_429_longer_than_the_budget_is_a_temporary_error_carrying_the_wait(bucket):
    client = make_client(bucket, budget=5)
    with respx.mock() as api:
        api.get(f"{API}/account").respond(429, headers={"Retry-After": "12"})
        with pytest.raises(GorgiasError) as raised:
            client.account()
    assert not raised.value.permanent and raised.value.retry_in == 12


def test_the_call_limit_header_corrects_the_shared_bucket(bucket):
    client = make_client(bucket)
    with respx.mock() as api:
        api.get(f"{API}/account").respond(
            200,
            headers={"X-Gorgias-Account-Api-Call-Limit": "38/40"},
            json=fixture("account.json"),
        )
        client.account()
    # Gorgias says 2 calls are left: the bucket believes no more than that.
    assert bucket.level() <= 2.5


def test_a_burst_queues_behind_the_shared_bucket_instead_of_failing(bucket):
    client = make_client(bucket)
    bucket.sync(0, 40, 2)  # another worker used the whole bucket
    with respx.mock() as api:
        api.get(f"{API}/account").respond(200, json=fixture("account.json"))
        client.account()
    assert client.sleeps and 0.3 <= client.sleeps[0] <= 0.6  # one slot at 2 a second


def test_server_errors_are_retried_with_backoff_for_reads(bucket):
    client = make_client(bucket)
    with respx.mock() as api:
        route = api.get(f"{API}/tickets/86538298")
        route.side_effect = [httpx.Response(503), httpx.Response(200, json={"id": 86538298})]
        assert client.ticket(86538298)["id"] == 86538298
    assert route.call_count == 2


def test_creating_a_message_is_not_repeated_blindly_after_a_server_error(bucket):
    client = make_client(bucket)
    with respx.mock() as api:
        route = api.post(f"{API}/tickets/86538298/messages").respond(502)
        with pytest.raises(GorgiasError) as raised:
            client.create_message(86538298, {"body_text": "hi"})
    assert route.call_count == 1 and not raised.value.permanent


def test_a_refusal_is_permanent_and_carries_gorgias_words(bucket):
    client = make_client(bucket)
    with respx.mock() as api:
        api.post(f"{API}/tickets/86538298/messages").respond(400, json=fixture("error_400.json"))
        with pytest.raises(GorgiasError) as raised:
            client.create_message(86538298, {"body_text": "hi"})
    assert raised.value.permanent and raised.value.status == 400
    assert "Invalid request data." in raised.value.message
    assert "Customer with this email address does not exist." in raised.value.message


def test_finding_our_message_follows_the_cursor_to_the_next_page(bucket):
    client = make_client(bucket)
    with respx.mock(assert_all_called=True) as api:
        first = api.get(f"{API}/messages", params={"ticket_id": "86538298"}).mock(
            side_effect=[
                httpx.Response(200, json=fixture("messages_page_1.json")),
                httpx.Response(200, json=fixture("messages_page_2.json")),
            ]
        )
        found = client.find_message(86538298, "desk-outbox:REFERENCE")
    assert found["id"] == 208842001
    second = first.calls[1].request.url.params
    assert second["cursor"] == "bmV4dF9fMjA4ODQwMDAyX18yMDI2LTAzLTAy"
    assert second["limit"] == "100" and second["order_by"] == "created_datetime:desc"


def test_test_connection_reads_the_account_or_says_why_not(gorgias):
    from integrations import connection_checks
    from integrations.ratelimit import SharedBucket

    SharedBucket("gorgias:northwind").reset()
    with respx.mock() as api:
        api.get(f"{API}/account").mock(
            side_effect=[
                httpx.Response(200, json=fixture("account.json")),
                httpx.Response(401, json={"error": "Invalid credentials."}),
            ]
        )
        reached = connection_checks.check(gorgias)
        refused = connection_checks.check(gorgias)
    assert reached.ok and reached.message == "Reached Gorgias account northwind."
    assert not refused.ok and refused.message == "Gorgias answered 401: Invalid credentials."
