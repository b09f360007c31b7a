"""AfterShip Returns: signed return webhooks into the order's returns, the API
client's paging, throttling and errors, and approved returns opened there once."""

from __future__ import annotations

import json

import httpx
import pytest
from django.urls import reverse

from agents.tools import get_order
from integrations import connection_checks, executors
from integrations.aftership_returns.client import AfterShipReturnsClient
from integrations.commerce import ExecutionError, LineRequest
from integrations.models import Order, Return, WebhookEvent
from integrations.webhooks import sign, verify_base64_hmac
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order
from tests.integrations.aftership_returns.conftest import (
    API,
    a_return,
    deliver,
    envelope,
    event,
    load,
)

pytestmark = pytest.mark.django_db


def mirrored_order(tenant, **raw) -> Order:
    order = make_order(tenant, number="10001", total="80.00")
    order.external_id = "4254002020558"
    order.raw = {
        "name": "#10001",
        "line_items": [{"id": 10579097059534, "sku": "SKU-1", "quantity": 1}],
        **raw,
    }
    order.save()
    return order


def test_signature_matches_an_independently_computed_vector():
    body = b'{"id":"3df04d0cdf3c492fad33a15f753fb960","event":"return.approved"}'
    expected = "YdR/xO1R3WIajtQgiupWq64WcWHr/tmHfQVKXhZLX8E="
    assert sign("as-returns-vector-secret", body) == expected
    assert verify_base64_hmac("as-returns-vector-secret", body, expected)


def test_a_submitted_return_shows_on_its_order_and_in_the_agents_evidence(
    client, returns_connection
):
    order = mirrored_order(returns_connection.tenant)
    response = deliver(client, returns_connection, event("return.submitted", a_return()))
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.applied == ["processed"]
    ret = order.returns.get()
    assert ret.connection == returns_connection
    assert (ret.external_id, ret.reference) == ("b3eedf69b7c0410d8975d4350c007705", "A1B2C3D4")
    assert (ret.status, ret.provider_status, ret.resolution) == ("requested", "submitted", "refund")
    assert ret.lines == [
        {"sku": "t-shirt-blue-xl", "title": "T-Shirt", "quantity": 1, "reason": "Wrong size"}
    ]
    evidence = get_order(order)["returns"]
    assert [(r["reference"], r["status"], r["platform_status"]) for r in evidence] == [
        ("A1B2C3D4", "requested", "submitted")
    ]
    # The raw delivery is kept as received.
    kept = WebhookEvent.objects.get()
    assert kept.delivery_id == "3df04d0cdf3c492fad33a15f753fb960"
    assert json.loads(kept.body)["event"] == "return.submitted"


def test_the_specialist_sees_the_return_on_the_contact_page(client, returns_connection):
    order = mirrored_order(returns_connection.tenant)
    deliver(client, returns_connection, event("return.submitted", a_return()))
    contact = make_contact(returns_connection.tenant, order=order, body="Where is my refund?")
    client.force_login(make_member(returns_connection.tenant, Role.SPECIALIST))
    html = client.get(reverse("desk:contact", args=[contact.public_id])).content.decode()
    assert 'id="returns"' in html
    assert "A1B2C3D4" in html and "Requested (submitted)" in html


def test_the_label_updates_the_same_return_and_an_older_event_changes_nothing(
    client, returns_connection
):
    order = mirrored_order(returns_connection.tenant)
    deliver(client, returns_connection, event("return.submitted", a_return(), event_id="e1"))
    approved = a_return(
        approval_status="approved", shipping_status="pending", shipments=[load("shipment.json")]
    )
    deliver(
        client,
        returns_connection,
        event("return.approved", approved, event_id="e2", at="2026-11-20T10:00:01Z"),
    )
    ret = order.returns.get()
    assert (ret.status, ret.provider_status) == ("label_sent", "approved")
    assert (ret.label_carrier, ret.label_tracking_number) == ("usps", "9400100000000000000000")
    assert ret.label_url.endswith("9400100000000000000000.pdf")

    late = deliver(
        client,
        returns_connection,
        event("return.submitted", a_return(), event_id="e0", at="2026-11-20T08:59:00Z"),
    )
    assert late.applied == ["ignored"]
    ret.refresh_from_db()
    assert ret.status == "label_sent"


def test_a_redelivery_is_acknowledged_without_a_second_effect(client, returns_connection):
    order = mirrored_order(returns_connection.tenant)
    payload = event("return.submitted", a_return())
    assert deliver(client, returns_connection, payload).applied == ["processed"]
    again = deliver(client, returns_connection, payload)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert again.applied == []
    assert order.returns.count() == 1


def test_bad_signature_is_401_and_malformed_body_400(client, returns_connection):
    mirrored_order(returns_connection.tenant)
    payload = event("return.submitted", a_return())
    forged = deliver(client, returns_connection, payload, secret="not-the-secret")
    assert forged.status_code == 401
    broken = b'{"id": "x", "data": '
    malformed = deliver(client, returns_connection, None, body=broken)
    assert malformed.status_code == 400
    assert Return.objects.count() == 0
    assert list(WebhookEvent.objects.values_list("status", flat=True)) == ["rejected", "rejected"]


def test_legacy_organizations_sign_in_am_webhook_signature(client, returns_connection):
    order = mirrored_order(returns_connection.tenant)
    raw = json.dumps(event("return.submitted", a_return())).encode()
    response = deliver(
        client,
        returns_connection,
        None,
        body=raw,
        headers={"am-webhook-signature": "hmac-sha256=" + sign("as-returns-webhook-secret", raw)},
    )
    assert response.status_code == 200
    assert order.returns.count() == 1


def test_a_return_for_an_order_we_do_not_hold_is_ignored(client, returns_connection):
    response = deliver(client, returns_connection, event("return.submitted", a_return()))
    assert response.applied == ["ignored"]
    assert "not mirrored" in WebhookEvent.objects.get().error


def test_rejected_and_resolved_returns_read_as_cancelled_and_closed(client, returns_connection):
    order = mirrored_order(returns_connection.tenant)
    deliver(
        client,
        returns_connection,
        event("return.rejected", a_return(approval_status="rejected"), event_id="e1"),
    )
    assert order.returns.get().status == "cancelled"
    deliver(
        client,
        returns_connection,
        event(
            "return.resolved",
            a_return(approval_status="done"),
            event_id="e2",
            at="2026-11-21T09:00:00Z",
        ),
    )
    assert order.returns.get().status == "closed"


# --- the API client ----------------------------------------------------------


def client_for(connection, sleeps=None) -> AfterShipReturnsClient:
    return AfterShipReturnsClient.for_credentials(
        connection.credentials,
        bucket_name=str(connection.public_id),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )


def test_returns_are_read_page_by_page_with_the_api_key(returns_connection, aftership):
    route = aftership.get(f"{API}/returns").mock(
        side_effect=[
            httpx.Response(
                200,
                json=envelope(
                    {
                        "returns": [a_return(id="r1")],
                        "pagination": {"total": 2, "page": 1, "limit": 50, "has_next_page": True},
                    }
                ),
            ),
            httpx.Response(
                200,
                json=envelope(
                    {
                        "returns": [a_return(id="r2")],
                        "pagination": {"total": 2, "page": 2, "limit": 50, "has_next_page": False},
                    }
                ),
            ),
        ]
    )
    found = list(client_for(returns_connection).returns(order_name="#10001"))
    assert [r["id"] for r in found] == ["r1", "r2"]
    first, second = route.calls
    assert first.request.headers["as-api-key"] == "asat_test_key"
    assert first.request.url.params["order_name"] == "#10001"
    assert (first.request.url.params["page"], second.request.url.params["page"]) == ("1", "2")


def test_a_429_waits_what_aftership_asks_then_succeeds(returns_connection, aftership):
    aftership.get(f"{API}/returns/r1").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "2"}, json=load("error_429.json")),
            httpx.Response(200, json=envelope(a_return(id="r1"))),
        ]
    )
    sleeps: list[float] = []
    assert client_for(returns_connection, sleeps).return_by_id("r1")["id"] == "r1"
    assert 2.0 in sleeps


def test_a_server_error_is_retried_with_backoff(returns_connection, aftership):
    aftership.get(f"{API}/returns/r1").mock(
        side_effect=[
            httpx.Response(503, text="upstream unavailable"),
            httpx.Response(200, json=envelope(a_return(id="r1"))),
        ]
    )
    sleeps: list[float] = []
    assert client_for(returns_connection, sleeps).return_by_id("r1")["id"] == "r1"
    assert len(sleeps) == 1


def test_a_refused_return_is_permanent_with_aftership_s_words(returns_connection, aftership):
    aftership.post(f"{API}/returns").mock(
        return_value=httpx.Response(422, json=load("error_422.json"))
    )
    with pytest.raises(ExecutionError) as caught:
        client_for(returns_connection).create_return({"order": {}})
    assert caught.value.permanent
    assert "Unprocessable entity" in str(caught.value)
    assert (
        "return_items[0].external_order_item_id: external_order_item_id is a required field"
        in str(caught.value)
    )


# --- opening approved returns there -------------------------------------------


def empty_list():
    return httpx.Response(
        200,
        json=envelope(
            {
                "returns": [],
                "pagination": {"total": 0, "page": 1, "limit": 50, "has_next_page": False},
            }
        ),
    )


def test_an_approved_return_is_opened_in_aftership_once(returns_connection, aftership):
    order = mirrored_order(returns_connection.tenant)
    aftership.get(f"{API}/returns").mock(return_value=empty_list())
    created = a_return(filed_by="merchant", approval_status="approved")
    create = aftership.post(f"{API}/returns").mock(
        return_value=httpx.Response(201, json=envelope(created, 20100, "Created"))
    )
    result = executors.create_return(
        order, [LineRequest("SKU-1", 1, "Too small")], idempotency_key="proposal-7", note="Desk"
    )
    assert result.external_id == "b3eedf69b7c0410d8975d4350c007705"
    assert result.detail["rma_number"] == "A1B2C3D4"
    sent = json.loads(create.calls.last.request.content)
    assert sent["order"] == {
        "external_id": "4254002020558",
        "store": {"platform": "shopify", "external_id": "cool-shoe-store"},
    }
    assert sent["return_items"][0]["external_order_item_id"] == "10579097059534"
    assert sent["return_items"][0]["intended_return_quantity"] == 1
    assert sent["return_items"][0]["resolution"] == "refund"
    assert sent["refund_destination"] == "original_payment"
    ret = order.returns.get()
    assert (ret.idempotency_key, ret.connection) == ("proposal-7", returns_connection)

    again = executors.create_return(
        order, [LineRequest("SKU-1", 1)], idempotency_key="proposal-7", note="Desk"
    )
    assert again.detail["replayed"] is True
    assert create.call_count == 1
    assert order.returns.count() == 1


def test_a_return_left_behind_by_a_lost_answer_is_adopted_not_doubled(
    returns_connection, aftership
):
    order = mirrored_order(returns_connection.tenant)
    left = a_return(
        filed_by="merchant",
        return_items=[{**a_return()["return_items"][0], "sku": "SKU-1"}],
    )
    aftership.get(f"{API}/returns").mock(
        return_value=httpx.Response(
            200,
            json=envelope(
                {
                    "returns": [left],
                    "pagination": {"total": 1, "page": 1, "limit": 50, "has_next_page": False},
                }
            ),
        )
    )
    create = aftership.post(f"{API}/returns").mock(return_value=httpx.Response(500))
    result = executors.create_return(order, [LineRequest("SKU-1", 1)], idempotency_key="k-9")
    assert result.detail["replayed"] is True
    assert create.call_count == 0
    assert order.returns.get().idempotency_key == "k-9"


def test_the_webhook_for_a_return_we_opened_updates_our_row(client, returns_connection, aftership):
    order = mirrored_order(returns_connection.tenant)
    aftership.get(f"{API}/returns").mock(return_value=empty_list())
    aftership.post(f"{API}/returns").mock(
        return_value=httpx.Response(201, json=envelope(a_return(), 20100, "Created"))
    )
    executors.create_return(order, [LineRequest("SKU-1", 1)], idempotency_key="proposal-8")
    approved = a_return(approval_status="approved", shipments=[load("shipment.json")])
    deliver(client, returns_connection, event("return.approved", approved))
    ret = order.returns.get()
    assert (ret.idempotency_key, ret.status) == ("proposal-8", "label_sent")


def test_a_line_the_store_payload_does_not_name_is_a_permanent_error(returns_connection, aftership):
    order = mirrored_order(returns_connection.tenant, line_items=[])
    with pytest.raises(ExecutionError) as caught:
        executors.create_return(order, [LineRequest("SKU-1", 1)], idempotency_key="k-1")
    assert caught.value.permanent
    assert "SKU-1" in str(caught.value)
    assert Return.objects.count() == 0


# --- test connection -----------------------------------------------------------


def test_connection_check_reports_what_it_reached(returns_connection, aftership):
    aftership.get(f"{API}/returns").mock(
        return_value=httpx.Response(
            200,
            json=envelope(
                {
                    "returns": [],
                    "pagination": {"total": 12, "page": 1, "limit": 1, "has_next_page": True},
                }
            ),
        )
    )
    result = connection_checks.check(returns_connection)
    assert result.ok
    assert result.message == "Reached AfterShip Returns: 12 returns in the last year."


def test_connection_check_shows_aftership_s_refusal(returns_connection, aftership):
    aftership.get(f"{API}/returns").mock(
        return_value=httpx.Response(401, json=load("error_401.json"))
    )
    result = connection_checks.check(returns_connection)
    assert not result.ok
    assert "The API key is invalid." in result.message
    returns_connection.refresh_from_db()
    assert returns_connection.last_check_ok is False
