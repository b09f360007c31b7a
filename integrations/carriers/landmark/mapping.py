"""Landmark Global Track API (XML ``TrackResponse``) -> our schema, by numeric ``EventCode``."""

from __future__ import annotations

from datetime import datetime

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_xml,
    make_event,
    not_found,
    split_location,
    text,
)
from integrations.carriers.schema import Substatus as U
from integrations.carriers.schema import TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "landmark"

_INFO = (S.INFO_RECEIVED, "")
_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "50": _INFO, "60": _INFO, "75": _INFO, "80": _INFO, "100": _INFO,
    "125": _IT, "150": _IT, "155": _IT, "200": _IT, "225": _IT, "250": _IT, "275": _IT,
    "300": (S.OUT_FOR_DELIVERY, ""), "400": (S.FAILED_ATTEMPT, ""),
    "450": (S.AVAILABLE_FOR_PICKUP, ""), "500": (S.DELIVERED, ""),
    "800": (S.EXCEPTION, U.RETURNING_TO_SENDER), "900": (S.EXCEPTION, ""),
}  # fmt: skip


def _when(value: str, country: str, region: str) -> datetime | None:
    tz = timestamps.zone_for(country, region, "America/New_York")
    for fmt in ("%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M"):
        when = timestamps.parse_local(value, tz, fmt)
        if when is not None:
            return when
    return timestamps.parse_local(value, tz)


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    if text(root, "Result/Success").lower() != "true":
        err = root.find("Errors/Error")
        code = text(err, "ErrorCode")
        make = not_found if code.lower() in ("notfound", "trackingnumber") else error
        return make(CARRIER, text(err, "ErrorMessage") or text(root, "Result/ResultMessage"), code)
    package = root.find("Result/Packages/Package")
    if package is None:
        return not_found(CARRIER, "no package in response")
    events = []
    for ev in package.iterfind("Events/Event"):
        loc = split_location(text(ev, "Location"))
        events.append(
            make_event(
                CODES,
                text(ev, "EventCode"),
                _when(text(ev, "DateTime"), loc.country, loc.region),
                text(ev, "Status"),
                loc,
                raw={c.tag: (c.text or "") for c in ev},
            )
        )
    number = text(package, "TrackingNumber") or text(package, "LandmarkTrackingNumber")
    # Landmark lists events in the order they happened, but multi-leg shipments
    # mix local clocks of several countries; the document order is the truth.
    last = next((e for e in reversed(events) if e.is_mapped), None)
    status = (last.status, last.substatus) if last else None
    return finish(CARRIER, number, events, status=status)
