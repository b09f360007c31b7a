"""EasyPost Tracker (JSON) -> our schema, by EasyPost ``status`` and ``status_detail``."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import CodeTable, error, finish, load_json, lookup, not_found
from integrations.carriers.schema import Event, Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "easypost"

STATUSES: CodeTable = {
    "pre_transit": (S.INFO_RECEIVED, ""), "in_transit": (S.IN_TRANSIT, ""),
    "out_for_delivery": (S.OUT_FOR_DELIVERY, ""), "delivered": (S.DELIVERED, ""),
    "available_for_pickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "return_to_sender": (S.EXCEPTION, U.RETURNING_TO_SENDER), "failure": (S.EXCEPTION, ""),
    "cancelled": (S.EXCEPTION, U.CANCELLED), "error": (S.EXCEPTION, ""), "unknown": (S.PENDING, ""),
}  # fmt: skip
DETAILS = {
    "address_correction": U.ADDRESS_PROBLEM, "address_not_found": U.ADDRESS_PROBLEM,
    "bad_address": U.ADDRESS_PROBLEM, "customs_issue": U.CUSTOMS_HOLD, "damaged": U.DAMAGED,
    "lost": U.LOST, "weather_delay": U.WEATHER_DELAY, "return": U.RETURNING_TO_SENDER,
    "refused": U.REFUSED, "recipient_refused": U.REFUSED, "recipient_not_available": U.RECIPIENT_UNAVAILABLE,
    "business_closed": U.BUSINESS_CLOSED, "returned_to_sender": U.RETURNED_TO_SENDER,
    "held_at_facility": U.HELD_AT_DEPOT, "rescheduled": "", "delivery_failed": "",
}  # fmt: skip
NOT_FOUND_CODES = {"TRACKER.CREATE.ERROR", "NOT_FOUND", "TRACKER.NOT_FOUND"}


def _map(status: str, detail: str) -> tuple[str, str, bool]:
    code, substatus, mapped = lookup(STATUSES, status)
    if detail in (
        "delivery_failed",
        "attempted_delivery",
        "recipient_not_available",
        "business_closed",
    ):
        code = S.FAILED_ATTEMPT
    return code, DETAILS.get(detail, substatus), mapped


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if "error" in doc:
        err = doc["error"]
        code = err.get("code", "")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, err.get("message", ""), code)
    events = []
    for ev in doc.get("tracking_details") or []:
        status, substatus, mapped = _map(ev.get("status") or "", ev.get("status_detail") or "")
        place = ev.get("tracking_location") or {}
        loc = Location(
            city=place.get("city") or "",
            region=place.get("state") or "",
            country=place.get("country") or "",
            postal_code=place.get("zip") or "",
        )
        when = timestamps.localize(timestamps.parse_iso(ev.get("datetime")), timestamps.zone("UTC"))
        events.append(
            Event(
                when,
                status,
                ev.get("status") or "",
                ev.get("message") or "",
                substatus,
                loc,
                mapped,
                ev,
            )
        )
    overall = _map(doc.get("status") or "", doc.get("status_detail") or "")
    return finish(
        CARRIER,
        doc.get("tracking_code") or "",
        events,
        overall=overall[:2],
        estimated_delivery=timestamps.parse_date(doc.get("est_delivery_date")),
    )
