"""Polling from beat: due shipments are claimed, refreshed through the tenant's carrier
connection, stored idempotently and rescheduled (two hours while moving, backing off once
delivered)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from django.core.cache import cache
from django.db import connection as db_connection
from django.db import transaction

from integrations.carriers import polling
from integrations.carriers.ups.client import UpsClient
from integrations.models import Connection, Shipment, TrackingEvent, TrackingStatus
from integrations.tasks import refresh_tracking
from tests.factories import make_order, make_tenant

FIXTURES = Path(__file__).parent / "fixtures"
UPS_TOKEN_URL = "https://onlinetools.ups.com/security/v1/oauth/token"
UPS_NUMBER = "1Z023E2X0214323462"
UPS_TRACK_URL = f"https://onlinetools.ups.com/api/track/v1/details/{UPS_NUMBER}"
AFTERSHIP = "https://api.aftership.com/tracking/2024-07/trackings"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UPS_CREDENTIALS = {"client_id": "poll-app", "client_secret": "poll-secret"}


@pytest.fixture
def schedule():
    s = polling.Schedule(name=f"test-poll-{uuid.uuid4().hex[:8]}")
    yield s
    s.clear()


@pytest.fixture(autouse=True)
def _fresh_ups_token():
    key = UpsClient(UPS_CREDENTIALS)._token_key
    cache.delete(key)
    yield
    cache.delete(key)


def _shipment(tenant, carrier="ups", number=UPS_NUMBER, **fields) -> Shipment:
    order = make_order(tenant, shipment_status=None)
    return Shipment.objects.create(
        tenant=tenant, order=order, carrier=carrier, tracking_number=number, **fields
    )


def _connect(tenant, provider="ups", credentials=None) -> Connection:
    return Connection.objects.create(
        tenant=tenant,
        provider=provider,
        kind=Connection.Kind.CARRIER,
        name=provider,
        credentials=credentials or UPS_CREDENTIALS,
    )


def _mock_ups(track_response=None):
    respx.post(UPS_TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "t", "expires_in": "14399"})
    )
    return respx.get(UPS_TRACK_URL).mock(
        return_value=track_response
        or httpx.Response(200, content=(FIXTURES / "ups/TrackingResponseJSON.json").read_bytes())
    )


@respx.mock
def test_due_shipment_is_refreshed_stored_and_due_again_within_two_hours(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    _connect(tenant)
    track = _mock_ups()

    stats = polling.refresh_due(schedule=schedule, now=NOW)

    assert (stats.enrolled, stats.claimed, stats.refreshed, stats.events_stored) == (1, 1, 1, 1)
    assert track.call_count == 1
    shipment.refresh_from_db()
    assert shipment.status == TrackingStatus.INFO_RECEIVED
    event = TrackingEvent.objects.get(shipment=shipment)
    assert (event.carrier_code, event.country) == ("003", "US")
    assert event.raw["event"]["status"]["statusCode"] == "003"
    due = datetime.fromtimestamp(schedule.due_at(shipment.pk), tz=UTC)
    assert NOW + timedelta(hours=1, minutes=40) <= due <= NOW + timedelta(hours=2)


@respx.mock
def test_shipment_not_yet_due_is_not_asked_and_a_later_run_stores_nothing_twice(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    _connect(tenant)
    track = _mock_ups()
    polling.refresh_due(schedule=schedule, now=NOW)

    again = polling.refresh_due(schedule=schedule, now=NOW + timedelta(minutes=30))
    assert again.claimed == 0
    assert track.call_count == 1

    later = polling.refresh_due(schedule=schedule, now=NOW + timedelta(hours=2))
    assert (later.claimed, later.refreshed, later.events_stored) == (1, 1, 0)
    assert track.call_count == 2
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1


@respx.mock
def test_aggregator_is_asked_when_the_tenant_has_no_connection_for_the_carrier(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant, carrier="fedex", number="1111111111111")
    _connect(tenant, "aftership", {"api_key": "k"})
    route = respx.get(AFTERSHIP).mock(
        return_value=httpx.Response(
            200, content=(FIXTURES / "aftership/GetTrackingsResult.json").read_bytes()
        )
    )

    stats = polling.refresh_due(schedule=schedule, now=NOW)

    assert route.calls.last.request.url.params["slug"] == "fedex"
    assert stats.events_stored == TrackingEvent.objects.filter(shipment=shipment).count() > 5
    shipment.refresh_from_db()
    assert shipment.status == TrackingStatus.DELIVERED
    # Delivered: the next look is hours after the delivery scan, not two hours from now.
    assert (
        schedule.due_at(shipment.pk) is None
        or schedule.due_at(shipment.pk) > (shipment.delivered_at + timedelta(hours=5)).timestamp()
    )


@respx.mock
@pytest.mark.parametrize(
    ("number", "slug"), [("EE123456785CN", "china-ems"), ("RR123456785CN", "china-post")]
)
def test_china_post_has_no_api_of_its_own_and_is_tracked_through_an_aggregator(
    db, schedule, number, slug
):
    tenant = make_tenant()
    _shipment(tenant, carrier="chinapost", number=number)
    # The first aggregator in the order asked wins; a tenant may hold several.
    _connect(tenant, "easypost", {"api_key": "EZAK_x"})
    _connect(tenant, "aftership", {"api_key": "k"})
    route = respx.get(AFTERSHIP).mock(
        return_value=httpx.Response(
            200, content=(FIXTURES / "aftership/GetTrackingsResult.json").read_bytes()
        )
    )

    polling.refresh_due(schedule=schedule, now=NOW)

    assert route.calls.last.request.url.params["slug"] == slug


def test_delivered_shipments_back_off_then_leave_the_schedule(db):
    tenant = make_tenant()
    delivered = NOW - timedelta(hours=2)
    shipment = _shipment(tenant, status=TrackingStatus.DELIVERED, delivered_at=delivered)

    assert polling.next_due(shipment, NOW) == delivered + timedelta(hours=6)
    assert polling.next_due(shipment, delivered + timedelta(hours=7)) == delivered + timedelta(
        days=1
    )
    assert polling.next_due(shipment, delivered + timedelta(days=8)) is None
    moving = _shipment(tenant, number="1ZOTHER", status=TrackingStatus.IN_TRANSIT)
    assert polling.next_due(moving, NOW) <= NOW + timedelta(hours=2)


def test_expired_and_long_delivered_shipments_are_never_enrolled(db, schedule):
    tenant = make_tenant()
    expired = _shipment(tenant, status=TrackingStatus.EXPIRED)
    old = _shipment(
        tenant,
        number="1ZOLD",
        status=TrackingStatus.DELIVERED,
        delivered_at=NOW - timedelta(days=30),
    )
    fresh = _shipment(tenant, number="1ZNEW")

    assert polling.enroll_new(schedule, now=NOW) == 1
    assert schedule.due_at(expired.pk) is None
    assert schedule.due_at(old.pk) is None
    assert schedule.due_at(fresh.pk) == NOW.timestamp()


def test_a_lost_schedule_is_rebuilt_from_the_database(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    polling.enroll_new(schedule, now=NOW)
    schedule.redis.delete(schedule.key)  # Redis lost it; the cursor survived

    assert polling.enroll_new(schedule, now=NOW) == 1
    assert schedule.due_at(shipment.pk) == NOW.timestamp()


def test_enrolment_moves_past_shipments_that_need_no_polling(db, schedule):
    tenant = make_tenant()
    for number in ("1ZOLD1", "1ZOLD2"):
        _shipment(
            tenant,
            number=number,
            status=TrackingStatus.DELIVERED,
            delivered_at=NOW - timedelta(days=30),
        )
    fresh = _shipment(tenant, number="1ZNEW")

    enrolled = [polling.enroll_new(schedule, now=NOW, batch=1) for _ in range(3)]

    assert enrolled == [0, 0, 1]
    assert schedule.due_at(fresh.pk) == NOW.timestamp()
    assert schedule.claim(10, now=NOW.timestamp()) == [fresh.pk]


@respx.mock
def test_shipment_without_a_carrier_connection_waits_for_a_person(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    track = _mock_ups()

    stats = polling.refresh_due(schedule=schedule, now=NOW)

    assert stats.unconfigured == 1
    assert track.call_count == 0
    assert schedule.due_at(shipment.pk) == (NOW + polling.UNCONFIGURED_RETRY).timestamp()


@respx.mock
def test_carrier_outage_is_asked_again_soon(db, schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    _connect(tenant)
    _mock_ups(httpx.Response(503, json={}))

    stats = polling.refresh_due(schedule=schedule, now=NOW)

    assert stats.failed == 1
    assert schedule.due_at(shipment.pk) == (NOW + polling.TRANSIENT_RETRY).timestamp()
    assert not TrackingEvent.objects.filter(shipment=shipment).exists()


@pytest.mark.django_db(transaction=True)
@respx.mock
def test_shipment_locked_by_another_transaction_is_skipped_not_waited_for(schedule):
    tenant = make_tenant()
    shipment = _shipment(tenant)
    _connect(tenant)
    track = _mock_ups()
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Shipment.objects.select_for_update().get(pk=shipment.pk)
                locked.set()
                release.wait(10)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        stats = polling.refresh_due(schedule=schedule, now=NOW)
    finally:
        release.set()
        holder.join()

    assert (stats.claimed, stats.skipped_locked, stats.refreshed) == (1, 1, 0)
    assert track.call_count == 0
    # Still leased, so it comes back once the lease runs out.
    assert schedule.due_at(shipment.pk) == (NOW + polling.LEASE).timestamp()


@respx.mock
def test_refresh_tracking_task_reports_what_it_did(db, monkeypatch, schedule):
    monkeypatch.setattr(polling, "Schedule", lambda: schedule)
    tenant = make_tenant()
    _shipment(tenant)
    _connect(tenant)
    _mock_ups()

    result = refresh_tracking.run(limit=10)

    assert result["refreshed"] == 1
    assert result["events_stored"] == 1
