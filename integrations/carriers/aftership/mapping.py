"""AfterShip Tracking API (JSON ``data.tracking``) -> our schema.

AfterShip already normalizes: each checkpoint has a ``tag`` (its nine
statuses) and a ``subtag`` (e.g. Exception_010), which map straight onto
ours; the courier's own code stays in ``raw_tag`` inside the raw event."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import CodeTable, country2, error, finish, load_json, not_found
from integrations.carriers.schema import (
    SUBSTATUS_FOR_AFTERSHIP_SUBTAG,
    Event,
    Location,
    TrackingResult,
)
from integrations.models import TrackingStatus as S

CARRIER = "aftership"

TAGS: CodeTable = {
    "Pending": (S.PENDING, ""), "InfoReceived": (S.INFO_RECEIVED, ""),
    "InTransit": (S.IN_TRANSIT, ""), "OutForDelivery": (S.OUT_FOR_DELIVERY, ""),
    "AttemptFail": (S.FAILED_ATTEMPT, ""), "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "Delivered": (S.DELIVERED, ""), "Exception": (S.EXCEPTION, ""), "Expired": (S.EXPIRED, ""),
}  # fmt: skip
NOT_FOUND_CODES = {404, 4004, 4005}


def _status(tag: str, subtag: str) -> tuple[str, str, bool]:
    hit = TAGS.get(tag)
    if hit is None:
        return S.IN_TRANSIT, "", False
    return hit[0], SUBSTATUS_FOR_AFTERSHIP_SUBTAG.get(subtag, ""), True


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    meta = doc.get("meta") or {}
    code = meta.get("code", 200)
    if code not in (200, 201):
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, meta.get("message") or "AfterShip error", str(code))
    data = doc.get("data") or {}
    if "trackings" in data:  # a lookup: the list is empty when AfterShip has no such number
        tracking = (data.get("trackings") or [None])[0]
    else:
        # v4 wraps one tracking in data.tracking; versioned APIs (2024-07 on)
        # return it as data itself.
        tracking = data.get("tracking") or (data if "tracking_number" in data else None)
    if not tracking:
        return not_found(CARRIER, "no tracking in response")
    events = []
    for cp in tracking.get("checkpoints") or []:
        tag, subtag = cp.get("tag") or "", cp.get("subtag") or ""
        status, substatus, mapped = _status(tag, subtag)
        loc = Location(
            city=cp.get("city") or "",
            region=cp.get("state") or "",
            country=country2(cp.get("country_iso3") or cp.get("country_region") or ""),
            postal_code=cp.get("zip") or "",
        )
        when = timestamps.localize(
            timestamps.parse_iso(cp.get("checkpoint_time")),
            timestamps.zone_for(loc.country, loc.region),
        )
        events.append(
            Event(when, status, subtag or tag, cp.get("message") or "", substatus, loc, mapped, cp)
        )
    overall = _status(tracking.get("tag") or "", tracking.get("subtag") or "")
    estimated = timestamps.parse_date(
        tracking.get("expected_delivery")
        or (tracking.get("aftership_estimated_delivery_date") or {}).get("estimated_delivery_date")
    )
    return finish(
        CARRIER,
        tracking.get("tracking_number") or "",
        events,
        overall=overall[:2] if overall[2] else None,
        estimated_delivery=estimated,
    )
