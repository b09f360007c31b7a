"""Desk moments become Klaviyo events that trigger the merchant's flows: sent after
commit, once per moment (unique_id), only for tenants that connected Klaviyo.
Only Klaviyo's HTTP API is mocked."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import respx
from django.utils import timezone

from desk.actions import ProposalDraft, submit_proposal
from integrations import connection_checks
from integrations.actions import record_tracking_event
from integrations.klaviyo.client import REVISION, KlaviyoClient, KlaviyoError
from integrations.klaviyo.tasks import send_moment
from integrations.models import Connection, TrackingStatus
from integrations.ratelimit import SharedBucket
from tenants.actor import Actor
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db

EVENTS = "https://a.klaviyo.com/api/events/"
KEY = "pk_northwind_private_key_0123456789"
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def _fresh_bucket():
    KlaviyoClient(KEY).bucket.reset()


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def klaviyo(tenant):
    return Connection.objects.create(
        tenant=tenant, provider="klaviyo", kind="cx", name="Klaviyo", credentials={"api_key": KEY}
    )


def _moments(callbacks) -> list[dict]:
    return [c.keywords for c in callbacks if getattr(c, "func", None) == send_moment.delay]


def _resolve_by_reply(contact) -> None:
    submit_proposal(
        contact,
        ProposalDraft(
            kind="reply",
            reply_draft="Your parcel is on its way.",
            confidence=Decimal("0.95"),
            rationale="In transit.",
        ),
        guardrails=[],
        actor=Actor.agent(),
    )


def test_a_resolved_contact_sends_one_event_for_the_customer(
    tenant, klaviyo, django_capture_on_commit_callbacks
):
    order = make_order(tenant)
    contact = make_contact(tenant, order=order)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _resolve_by_reply(contact)
    [moment] = _moments(callbacks)

    with respx.mock(assert_all_called=True) as api:
        route = api.post(EVENTS).respond(202)
        assert send_moment.apply(kwargs=moment).get() == "sent"
        assert send_moment.apply(kwargs=moment).get() == "sent"  # a task run twice

    first, second = (json.loads(c.request.content) for c in route.calls)
    assert first == second  # the same unique_id: Klaviyo keeps one event
    attributes = first["data"]["attributes"]
    assert first["data"]["type"] == "event"
    assert attributes["metric"]["data"]["attributes"]["name"] == "Support Contact Resolved"
    assert attributes["profile"]["data"]["attributes"]["email"] == order.email
    assert attributes["properties"]["order_number"] == order.number
    assert attributes["properties"]["resolution"] == "ai"
    assert attributes["unique_id"].startswith("desk-audit-")
    headers = route.calls.last.request.headers
    assert headers["Authorization"] == f"Klaviyo-API-Key {KEY}"
    assert headers["revision"] == REVISION
    assert headers["Content-Type"] == "application/vnd.api+json"


def test_tenants_without_klaviyo_send_nothing(tenant, django_capture_on_commit_callbacks):
    contact = make_contact(tenant, order=make_order(tenant))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _resolve_by_reply(contact)
    assert _moments(callbacks) == []


def test_a_delivery_exception_scan_triggers_the_exception_flow(
    tenant, klaviyo, django_capture_on_commit_callbacks
):
    order = make_order(tenant)
    shipment = order.shipments.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_tracking_event(
            shipment,
            occurred_at=timezone.now() - timedelta(hours=1),
            status=TrackingStatus.EXCEPTION,
            description="Package damaged in transit, held at depot",
            carrier_code="X9",
            city="Louisville",
            country="US",
        )
    [moment] = _moments(callbacks)

    with respx.mock() as api:
        route = api.post(EVENTS).respond(202)
        assert send_moment.apply(kwargs=moment).get() == "sent"

    attributes = json.loads(route.calls.last.request.content)["data"]["attributes"]
    assert attributes["metric"]["data"]["attributes"]["name"] == "Delivery Exception Detected"
    assert attributes["profile"]["data"]["attributes"]["email"] == order.email
    assert attributes["properties"]["tracking_number"] == shipment.tracking_number
    assert attributes["properties"]["description"] == "Package damaged in transit, held at depot"


def test_an_ordinary_scan_is_no_moment(tenant, klaviyo, django_capture_on_commit_callbacks):
    shipment = make_order(tenant).shipments.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_tracking_event(
            shipment,
            occurred_at=timezone.now(),
            status=TrackingStatus.OUT_FOR_DELIVERY,
            description="Out for delivery",
        )
    assert _moments(callbacks) == []


def test_a_refusal_is_kept_on_the_connection_in_klaviyos_words(
    tenant, klaviyo, django_capture_on_commit_callbacks
):
    contact = make_contact(tenant, order=make_order(tenant))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _resolve_by_reply(contact)
    [moment] = _moments(callbacks)

    with respx.mock() as api:
        api.post(EVENTS).respond(400, json=fixture("error_400.json"))
        result = send_moment.apply(kwargs=moment).get()

    assert result.startswith("refused: Klaviyo answered 400: One of `attributes`")
    klaviyo.refresh_from_db()
    assert klaviyo.last_check_ok is False and "must be included" in klaviyo.last_check_message


def test_a_throttled_call_waits_as_long_as_klaviyo_asks():
    client = KlaviyoClient(KEY, bucket=SharedBucket("klaviyo:test", capacity=350, restore_rate=58))
    with respx.mock() as api:
        api.post(EVENTS).respond(429, headers={"Retry-After": "7"}, json=fixture("error_429.json"))
        with pytest.raises(KlaviyoError) as raised:
            client.create_event(
                metric="Refund Issued",
                email="a@example.com",
                properties={},
                unique_id="desk-audit-1",
                time="2026-03-02T10:00:00+00:00",
            )
    assert not raised.value.permanent and raised.value.retry_in == 7
    assert "Expected available in 7 seconds" in raised.value.message


def test_test_connection_reads_the_account(klaviyo):
    with respx.mock() as api:
        route = api.get("https://a.klaviyo.com/api/accounts/").respond(
            200, json=fixture("accounts.json")
        )
        result = connection_checks.check(klaviyo)
    assert result.ok and result.message == "Reached Klaviyo account Northwind Outfitters (XyZ123)."
    assert route.calls.last.request.headers["revision"] == REVISION
