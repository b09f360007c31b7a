"""Quiet hours in the customer's time zone, across zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from agents.nudges.engine import evaluate_events
from agents.nudges.timezones import customer_zone, quiet_until
from integrations.messaging import actions as outbox
from tests.agents.nudges.helpers import make_rule, quiet, scan
from tests.factories import make_customer, make_order, make_tenant

NY = ZoneInfo("America/New_York")
NIGHT = (time(21, 0), time(8, 0))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_outside_quiet_hours_sends_now():
    assert quiet_until(utc(2026, 6, 10, 16, 0), NY, *NIGHT) is None  # 12:00 in New York


def test_late_evening_waits_for_next_morning():
    # 22:30 EDT on 10 June → 08:00 EDT on 11 June = 12:00 UTC.
    assert quiet_until(utc(2026, 6, 11, 2, 30), NY, *NIGHT) == utc(2026, 6, 11, 12, 0)


def test_small_hours_wait_for_the_same_morning():
    # 05:00 EDT → 08:00 EDT the same day.
    assert quiet_until(utc(2026, 6, 11, 9, 0), NY, *NIGHT) == utc(2026, 6, 11, 12, 0)


def test_end_of_quiet_hours_is_exclusive_and_start_inclusive():
    assert quiet_until(utc(2026, 6, 11, 12, 0), NY, *NIGHT) is None  # 08:00 sharp
    assert quiet_until(utc(2026, 6, 11, 1, 0), NY, *NIGHT) == utc(2026, 6, 11, 12, 0)  # 21:00


def test_spring_forward_night_is_an_hour_shorter_in_utc():
    # 23:00 EST on 7 March 2026; clocks go forward at 02:00 on 8 March, so
    # 08:00 local the next morning is EDT (UTC-4), 12:00 UTC, not 13:00.
    assert quiet_until(utc(2026, 3, 8, 4, 0), NY, *NIGHT) == utc(2026, 3, 8, 12, 0)


def test_fall_back_night_is_an_hour_longer_in_utc():
    # 23:00 EDT on 31 October 2026; clocks go back on 1 November, so 08:00 is EST.
    assert quiet_until(utc(2026, 11, 1, 3, 0), NY, *NIGHT) == utc(2026, 11, 1, 13, 0)


def test_quiet_end_inside_the_spring_forward_gap_still_ends():
    # 02:30 does not exist on 8 March 2026 in New York; the night ends when
    # the clocks reach it (03:30 EDT = 07:30 UTC), never skipping a day.
    until = quiet_until(utc(2026, 3, 8, 5, 0), NY, time(22, 0), time(2, 30))
    assert until == utc(2026, 3, 8, 7, 30)


def test_a_daytime_window_works_too():
    assert quiet_until(utc(2026, 6, 10, 17, 0), NY, time(12, 0), time(14, 0)) == utc(
        2026, 6, 10, 18, 0
    )
    assert quiet_until(utc(2026, 6, 10, 19, 0), NY, time(12, 0), time(14, 0)) is None


def test_no_quiet_hours_when_unset_or_empty():
    assert quiet_until(utc(2026, 6, 11, 2, 30), NY, None, None) is None
    assert quiet_until(utc(2026, 6, 11, 2, 30), NY, time(8, 0), time(8, 0)) is None


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"]),
)
def test_deferred_time_is_always_later_and_lands_at_the_local_end(now, zone_name):
    zone = ZoneInfo(zone_name)
    until = quiet_until(now, zone, *NIGHT)
    if until is None:
        assert time(8, 0) <= now.astimezone(zone).time() < time(21, 0)
    else:
        assert until > now
        assert (until - now).total_seconds() <= 12 * 3600  # the night is 11 h (+1 at fall-back)
        local_end = until.astimezone(zone).time()
        assert local_end == time(8, 0) or until.astimezone(zone).dst() != now.astimezone(zone).dst()


def test_customer_zone_from_address_then_tenant():
    assert customer_zone({"time_zone": "Asia/Tokyo"}, "UTC").key == "Asia/Tokyo"
    assert (
        customer_zone({"country_code": "US", "province_code": "CA"}, "UTC").key
        == "America/Los_Angeles"
    )
    assert customer_zone({"country_code": "JP"}, "UTC").key == "Asia/Tokyo"
    # The US has many zones: without a state, the merchant's zone stands in.
    assert customer_zone({"country_code": "US"}, "Europe/Berlin").key == "Europe/Berlin"
    assert customer_zone({}, "Europe/Berlin").key == "Europe/Berlin"


@pytest.mark.django_db
def test_same_moment_is_night_in_new_york_and_day_in_tokyo():
    tenant = make_tenant(time_zone="UTC")
    make_rule(tenant, **quiet("21:00", "08:00"))

    def shipment_in(address):
        order = make_order(tenant, customer=make_customer(tenant))
        order.shipping_address = address
        order.save()
        return order.shipments.get()

    # 03:00 UTC: 23:00 in New York (EDT), 12:00 in Tokyo.
    with time_machine.travel(utc(2026, 6, 11, 3, 0), tick=False):
        new_york = shipment_in({"country_code": "US", "province_code": "NY"})
        tokyo = shipment_in({"country_code": "JP"})
        events = [scan(new_york, "out_for_delivery").pk, scan(tokyo, "out_for_delivery").pk]
        written = {m.shipment_id: m for m in evaluate_events(events, enqueue=False)}
    held, now = written[new_york.pk], written[tokyo.pk]
    assert (held.state, held.defer_reason, held.send_after) == (
        "queued",
        "quiet_hours",
        utc(2026, 6, 11, 12, 0),
    )
    assert now.send_after is None


@pytest.mark.django_db
def test_quiet_hours_fall_back_to_the_tenants_zone_and_are_queued_not_dropped(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant = make_tenant(time_zone="Europe/London")
    make_rule(tenant, **quiet("21:00", "08:00"))
    # 22:00 BST on 24 October 2026; the clocks go back that night, so 08:00 GMT = 08:00 UTC.
    with time_machine.travel(utc(2026, 10, 24, 21, 0), tick=False):
        shipment = make_order(tenant).shipments.get()
        [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
        assert outbox.due_message_ids(utc(2026, 10, 24, 21, 0)) == []
    assert message.send_after == utc(2026, 10, 25, 8, 0)
    assert outbox.due_message_ids(utc(2026, 10, 25, 8, 0)) == [message.pk]
    assert outbox.send_now(message.pk, now=utc(2026, 10, 25, 8, 0)) == "sent"
