"""Sendle tracking (JSON) -> our schema, by Sendle's ``state`` and ``event_type`` values."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    make_event,
    not_found,
    split_location,
)
from integrations.carriers.schema import Substatus as U
from integrations.carriers.schema import TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "sendle"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "Info": (S.INFO_RECEIVED, ""), "Booking": (S.INFO_RECEIVED, ""),
    "Pickup Attempted": (S.INFO_RECEIVED, ""), "Pickup": _IT, "Drop Off": _IT,
    "In Transit": _IT, "Transit": _IT, "Out for Delivery": (S.OUT_FOR_DELIVERY, ""),
    "Delivery Attempted": (S.FAILED_ATTEMPT, ""), "Card Left": (S.FAILED_ATTEMPT, ""),
    "Left with Agent": (S.AVAILABLE_FOR_PICKUP, ""), "Delivered": (S.DELIVERED, ""),
    "Damaged": (S.EXCEPTION, U.DAMAGED), "Lost": (S.EXCEPTION, U.LOST),
    "Unable to Deliver": (S.EXCEPTION, ""), "Return to Sender": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "Returned to Sender": (S.EXCEPTION, U.RETURNED_TO_SENDER), "Cancelled": (S.EXCEPTION, U.CANCELLED),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if "tracking_events" not in doc:
        code = doc.get("error", "")
        make = not_found if code == "not_found" else error
        return make(CARRIER, doc.get("error_description") or "unexpected Sendle reply", code)
    events = []
    for ev in doc.get("tracking_events") or []:
        # scan_time is UTC; local_scan_time only repeats it in the depot's clock.
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("scan_time")), timestamps.zone("UTC")
        )
        loc = split_location(ev.get("location") or "")
        events.append(
            make_event(
                CODES, ev.get("event_type") or "", when, ev.get("description") or "", loc, raw=ev
            )
        )
    overall = CODES.get(doc.get("state") or "")
    scheduling = doc.get("scheduling") or {}
    estimated = timestamps.parse_date(scheduling.get("estimated_delivery_date_maximum"))
    return finish(
        CARRIER,
        doc.get("sendle_reference") or doc.get("tracking_number") or "",
        events,
        overall=overall,
        estimated_delivery=estimated,
    )
