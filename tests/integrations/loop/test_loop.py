"""Loop Returns: signed return webhooks mirror returns and exchanges onto the
order, the agent sees their state, and the API client pages and throttles."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from agents.tools import get_order
from integrations import connection_checks
from integrations.commerce import ExecutionError
from integrations.loop.client import BASE, LoopClient
from integrations.models import Connection, Order, WebhookEvent
from integrations.ratelimit import SharedBucket
from integrations.webhooks import sign, verify_base64_hmac
from tests.factories import apply_webhooks, make_order, make_tenant

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "loop-webhook-secret"


def a_return(**changes) -> dict:
    ret = json.loads((FIXTURES / "return_created.json").read_text())
    ret.update(copy.deepcopy(changes))
    return ret


@pytest.fixture
def loop_connection(db):
    connection = Connection.objects.create(
        tenant=make_tenant(),
        provider="loop",
        kind=Connection.Kind.CX,
        name="Loop",
        credentials={"api_key": "loop_test_key", "webhook_secret": SECRET},
    )
    bucket = SharedBucket(f"loop:{connection.public_id}")
    bucket.reset()
    yield connection
    bucket.reset()


@pytest.fixture
def loop_api():
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def mirrored_order(tenant) -> Order:
    order = make_order(tenant, number="10001", total="80.00")
    order.external_id = "4254002020558"
    order.save()
    return order


def deliver(client, connection, payload, *, secret=SECRET, body=None):
    raw = body if body is not None else json.dumps(payload).encode()
    response = client.post(
        f"/webhooks/loop/{connection.public_id}",
        data=raw,
        content_type="application/json",
        headers={"X-Loop-Signature": sign(secret, raw)},
    )
    response.applied = apply_webhooks()
    return response


def test_signature_matches_an_independently_computed_vector():
    body = b'{"id":"1673","status_page_url":"https:\\/\\/example.loopreturns.com\\/#\\/return\\/1"}'
    expected = "AdcDAQ9Da9MtcgFD4I0KwpnibQnkfnxG0FgtJPOVHJs="
    assert sign("loop-vector-secret", body) == expected
    assert verify_base64_hmac("loop-vector-secret", body, expected)


def test_a_body_re_encoded_without_escaped_slashes_still_verifies(client, loop_connection):
    order = mirrored_order(loop_connection.tenant)
    loop_form = json.dumps(a_return()).replace("/", "\\/").encode()
    plain = json.dumps(a_return()).encode()
    response = client.post(
        f"/webhooks/loop/{loop_connection.public_id}",
        data=plain,
        content_type="application/json",
        headers={"X-Loop-Signature": sign(SECRET, loop_form)},
    )
    assert response.status_code == 200
    assert apply_webhooks() == ["processed"]
    assert order.returns.count() == 1


def test_a_created_exchange_shows_on_the_order_for_the_agent(client, loop_connection):
    order = mirrored_order(loop_connection.tenant)
    response = deliver(client, loop_connection, a_return())
    assert response.status_code == 200
    assert response.applied == ["processed"]
    ret = order.returns.get()
    assert (ret.external_id, ret.reference, ret.connection) == ("1673", "1673", loop_connection)
    assert (ret.status, ret.provider_status, ret.resolution) == ("requested", "open", "exchange")
    assert ret.lines == [
        {"sku": "SKU-1", "title": "Test item", "quantity": 1, "reason": "Too small"}
    ]
    evidence = get_order(order)["returns"]
    assert evidence[0]["status_label"] == "Requested"
    assert evidence[0]["resolution"] == "exchange"


def test_the_label_and_the_closing_follow_on_the_same_return(client, loop_connection):
    order = mirrored_order(loop_connection.tenant)
    deliver(client, loop_connection, a_return())
    labelled = a_return(
        trigger="return.updated",
        labels=[
            {
                "status": "in_transit",
                "updated_at": "2026-11-21T09:00:00.000Z",
                "url": "https://partner.loopreturns.com/label/12345456",
                "rate": 1093,
                "carrier": "USPS",
                "tracking_number": 9400100000000000000000,
                "line_items": [123456789],
            }
        ],
    )
    assert deliver(client, loop_connection, labelled).applied == ["processed"]
    ret = order.returns.get()
    assert (ret.status, ret.label_carrier) == ("in_transit", "usps")
    assert ret.label_tracking_number == "9400100000000000000000"

    closed = {**labelled, "trigger": "return.closed", "state": "closed"}
    deliver(client, loop_connection, closed)
    ret.refresh_from_db()
    assert (ret.status, ret.provider_status) == ("closed", "closed")
    assert ret.label_tracking_number == "9400100000000000000000"


def test_an_older_state_arriving_late_changes_nothing(client, loop_connection):
    order = mirrored_order(loop_connection.tenant)
    deliver(client, loop_connection, a_return(edited_at="2026-11-22T10:00:00Z", state="cancelled"))
    late = deliver(client, loop_connection, a_return())
    assert late.applied == ["ignored"]
    assert order.returns.get().status == "cancelled"


def test_a_redelivery_is_a_duplicate_with_no_second_effect(client, loop_connection):
    order = mirrored_order(loop_connection.tenant)
    first = deliver(client, loop_connection, a_return())
    again = deliver(client, loop_connection, a_return())
    assert first.json()["status"] == "accepted"
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert order.returns.count() == 1
    assert WebhookEvent.objects.count() == 1


def test_bad_signature_is_401_and_malformed_body_400(client, loop_connection):
    mirrored_order(loop_connection.tenant)
    assert deliver(client, loop_connection, a_return(), secret="wrong").status_code == 401
    assert (
        deliver(client, loop_connection, None, body=b'["not", "an", "object"]').status_code == 400
    )
    assert Order.objects.get().returns.count() == 0


def test_a_return_for_an_order_we_do_not_hold_is_ignored(client, loop_connection):
    assert deliver(client, loop_connection, a_return()).applied == ["ignored"]


# --- the API client ------------------------------------------------------------


def test_the_returns_list_follows_next_page_urls_with_the_api_key(loop_connection, loop_api):
    following = f"{BASE}/warehouse/return/list?cursor=eyJjcmVhdGVkX2F0Ijp9&pageSize=1"
    first = loop_api.get(f"{BASE}/warehouse/return/list", params={"paginate": "true"}).mock(
        return_value=httpx.Response(
            200,
            json={"returns": [a_return(id="1")], "nextPageUrl": following, "previousPageUrl": None},
        )
    )
    second = loop_api.get(following).mock(
        return_value=httpx.Response(200, json={"returns": [a_return(id="2")], "nextPageUrl": None})
    )
    client = LoopClient.for_credentials(
        loop_connection.credentials, bucket_name=str(loop_connection.public_id)
    )
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
    assert [r["id"] for r in client.returns(since, until)] == ["1", "2"]
    sent = first.calls.last.request
    assert sent.headers["X-Authorization"] == "loop_test_key"
    assert sent.url.params["from"] == "2026-11-01 00:00:00"
    assert sent.url.params["filter"] == "updated_at"
    assert second.called


def test_a_429_pauses_then_retries(loop_connection, loop_api):
    loop_api.get(f"{BASE}/warehouse/return/details").mock(
        side_effect=[httpx.Response(429), httpx.Response(200, json=a_return())]
    )
    sleeps: list[float] = []
    client = LoopClient.for_credentials(
        loop_connection.credentials, bucket_name=str(loop_connection.public_id), sleep=sleeps.append
    )
    assert client.return_details("1673")["id"] == "1673"
    assert 2.0 in sleeps


def test_a_refused_key_is_permanent_with_loop_s_message(loop_connection, loop_api):
    loop_api.get(f"{BASE}/warehouse/return/details").mock(
        return_value=httpx.Response(401, json={"message": "Unauthenticated."})
    )
    client = LoopClient.for_credentials(
        loop_connection.credentials, bucket_name=str(loop_connection.public_id)
    )
    with pytest.raises(ExecutionError) as caught:
        client.return_details("1673")
    assert caught.value.permanent
    assert "Unauthenticated." in str(caught.value)


def test_connection_check_reads_one_return(loop_connection, loop_api):
    route = loop_api.get(f"{BASE}/warehouse/return/list").mock(
        return_value=httpx.Response(
            200,
            json={"returns": [a_return()], "nextPageUrl": f"{BASE}/warehouse/return/list?cursor=x"},
        )
    )
    result = connection_checks.check(loop_connection)
    assert result.ok, result.message
    assert result.message == "Reached Loop: return 1673 was updated in the last 7 days."
    assert route.call_count == 1
    assert route.calls.last.request.url.params["pageSize"] == "1"
