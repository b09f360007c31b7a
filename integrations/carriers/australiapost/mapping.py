"""Australia Post Shipping & Tracking API (JSON, ``tracking_results``) -> our schema.

Australia Post's scan events carry no code, only text; the codes it does
give are the article and consignment ``status`` values of its documented
enumeration, so the shipment's status comes from those and the scans are
kept as-is, flagged unmapped rather than guessed from their wording."""

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

CARRIER = "australiapost"

_IT = (S.IN_TRANSIT, "")
STATUSES: CodeTable = {
    "Created": (S.INFO_RECEIVED, ""), "Sealed": (S.INFO_RECEIVED, ""),
    "Initiated": (S.INFO_RECEIVED, ""), "In transit": _IT, "Unknown": _IT,
    "Delivered": (S.DELIVERED, ""), "Awaiting collection": (S.AVAILABLE_FOR_PICKUP, ""),
    "Possible delay": (S.EXCEPTION, U.CARRIER_DELAY), "Unsuccessful pickup": (S.EXCEPTION, ""),
    "Article damaged": (S.EXCEPTION, U.DAMAGED), "Cancelled": (S.EXCEPTION, U.CANCELLED),
    "Held by courier": (S.EXCEPTION, U.HELD_AT_DEPOT),
    "Cannot be delivered": (S.EXCEPTION, ""), "Track items for detailed delivery information": _IT,
}  # fmt: skip

NOT_FOUND_CODES = {"ESB-10001", "ESB-10002"}


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if doc.get("errors"):
        first = doc["errors"][0]
        return error(CARRIER, first.get("message") or first.get("name", ""), first.get("code", ""))
    results = doc.get("tracking_results") or []
    if not results:
        return not_found(CARRIER, "no tracking results")
    # One tracking id per request in our polling; the first result is the one asked for.
    result = results[0]
    number = result.get("tracking_id", "")
    if result.get("errors"):
        first = result["errors"][0]
        code = first.get("code", "")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, first.get("name") or first.get("message", ""), code, number)
    items = []
    for trackable in result.get("trackable_items") or []:
        items.extend(trackable.get("items") or [trackable])
    events = []
    item_status = result.get("status") or ""
    for item in items:
        item_status = item_status or item.get("status") or ""
        for ev in item.get("events") or []:
            when = timestamps.localize(
                timestamps.parse_iso(ev.get("date")), timestamps.zone("Australia/Sydney")
            )
            loc = split_location(ev.get("location") or "", country="")
            events.append(make_event({}, "", when, ev.get("description") or "", loc, raw=ev))
    overall = STATUSES.get(item_status)
    if overall is None:
        overall = _IT if events else (S.PENDING, "")
    return finish(CARRIER, number, events, status=overall, pieces=max(len(items), 1))
