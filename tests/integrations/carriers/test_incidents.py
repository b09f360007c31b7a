"""Incident flags computed from the event stream."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from integrations.carriers.schema import Event, Incident, Substatus, incident_flags
from integrations.models import TrackingStatus as S

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


def _ev(days_ago: float, status: str, substatus: str = "") -> Event:
    return Event(
        occurred_at=NOW - timedelta(days=days_ago), status=status, code="X", substatus=substatus
    )


def test_label_never_scanned_after_n_days():
    flags = incident_flags([_ev(4, S.INFO_RECEIVED)], now=NOW, not_scanned_days=3)
    assert flags == [Incident.NOT_SCANNED]


def test_fresh_label_is_not_flagged():
    assert incident_flags([_ev(1, S.INFO_RECEIVED)], now=NOW) == []


def test_stalled_when_no_scan_for_n_days():
    flags = incident_flags([_ev(9, S.INFO_RECEIVED), _ev(6, S.IN_TRANSIT)], now=NOW, stalled_days=5)
    assert Incident.STALLED in flags


def test_delivered_shipment_never_stalls_or_is_late():
    events = [_ev(30, S.IN_TRANSIT), _ev(20, S.DELIVERED)]
    assert incident_flags(events, now=NOW, estimated_delivery=date(2024, 2, 1)) == []


def test_late_after_estimated_date():
    flags = incident_flags([_ev(1, S.IN_TRANSIT)], now=NOW, estimated_delivery=date(2024, 3, 19))
    assert flags == [Incident.LATE]


def test_final_attempt_from_carrier_substatus():
    events = [_ev(2, S.OUT_FOR_DELIVERY), _ev(1, S.FAILED_ATTEMPT, Substatus.FINAL_ATTEMPT)]
    assert Incident.FINAL_ATTEMPT_FAILED in incident_flags(events, now=NOW)


def test_final_attempt_after_three_failed_attempts():
    events = [_ev(3, S.FAILED_ATTEMPT), _ev(2, S.FAILED_ATTEMPT), _ev(1, S.FAILED_ATTEMPT)]
    assert Incident.FINAL_ATTEMPT_FAILED in incident_flags(events, now=NOW)
    assert Incident.FINAL_ATTEMPT_FAILED not in incident_flags(events[:2], now=NOW)


def test_substatuses_map_to_aftership_subtags():
    from integrations.carriers.schema import AFTERSHIP_SUBTAG

    assert AFTERSHIP_SUBTAG[Substatus.CUSTOMS_HOLD] == "Exception_004"
    assert AFTERSHIP_SUBTAG[Substatus.DELIVERED_TO_NEIGHBOUR] == "Delivered_005"
    assert set(AFTERSHIP_SUBTAG) == set(Substatus.values)
