"""ShipEngine tracking (JSON) -> our schema, by ShipEngine's ``status_code`` (AC, IT, DE, EX, AT, NY, UN)."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    make_event,
    not_found,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "shipengine"

STATUSES: CodeTable = {
    "AC": (S.INFO_RECEIVED, ""), "IT": (S.IN_TRANSIT, ""), "DE": (S.DELIVERED, ""),
    "EX": (S.EXCEPTION, ""), "AT": (S.FAILED_ATTEMPT, ""), "NY": (S.PENDING, ""),
    "UN": (S.PENDING, ""), "SP": (S.AVAILABLE_FOR_PICKUP, ""),
}  # fmt: skip
# Event codes here are the underlying carrier's; those we see from UPS/FedEx style feeds.
EVENT_CODES: CodeTable = {
    "DL": (S.DELIVERED, ""), "OD": (S.OUT_FOR_DELIVERY, ""), "OF": (S.OUT_FOR_DELIVERY, ""),
    "IT": (S.IN_TRANSIT, ""), "AR": (S.IN_TRANSIT, ""), "DP": (S.IN_TRANSIT, ""),
    "PU": (S.IN_TRANSIT, ""), "OC": (S.INFO_RECEIVED, ""), "MA": (S.INFO_RECEIVED, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if doc.get("errors"):
        first = doc["errors"][0]
        code = first.get("error_code", "")
        make = not_found if code in ("not_found", "tracking_number_not_found") else error
        return make(CARRIER, first.get("message", ""), code)
    overall = STATUSES.get(doc.get("status_code") or "")
    events = []
    for ev in doc.get("events") or []:
        loc = Location(
            city=ev.get("city_locality") or "",
            region=ev.get("state_province") or "",
            country=ev.get("country_code") or "",
            postal_code=ev.get("postal_code") or "",
        )
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("occurred_at")), timestamps.zone("UTC")
        )
        events.append(
            make_event(
                EVENT_CODES,
                ev.get("event_code") or "",
                when,
                ev.get("description") or "",
                loc,
                raw=ev,
            )
        )
    return finish(
        CARRIER,
        doc.get("tracking_number") or "",
        events,
        status=overall,
        estimated_delivery=timestamps.parse_date(doc.get("estimated_delivery_date")),
    )
