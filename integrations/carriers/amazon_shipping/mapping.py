"""Amazon Shipping API v2 ``getTracking`` (JSON) -> our schema, by ``eventCode``."""

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
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "amazon_shipping"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "ReadyForReceive": (S.INFO_RECEIVED, ""), "PreTransit": (S.INFO_RECEIVED, ""),
    "PickupDone": _IT, "Departed": _IT, "ArrivedAtCarrierFacility": _IT, "InTransit": _IT,
    "OutForDelivery": (S.OUT_FOR_DELIVERY, ""), "Delivered": (S.DELIVERED, ""),
    "DeliveryAttempted": (S.FAILED_ATTEMPT, ""), "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "AwaitingCustomerPickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "PickupCancelled": (S.EXCEPTION, U.CANCELLED), "Lost": (S.EXCEPTION, U.LOST),
    "Damaged": (S.EXCEPTION, U.DAMAGED), "Rejected": (S.EXCEPTION, U.REFUSED),
    "Undeliverable": (S.EXCEPTION, ""), "ReturnInitiated": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "Returning": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "ReturnedToSeller": (S.EXCEPTION, U.RETURNED_TO_SENDER),
}  # fmt: skip
NOT_FOUND_CODES = {"InvalidTrackingId", "NotFound", "InvalidInput"}


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    payload = doc.get("payload", doc)
    if doc.get("errors"):
        first = doc["errors"][0]
        code = first.get("code", "")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, first.get("details") or first.get("message", ""), code)
    events = []
    for ev in payload.get("eventHistory") or []:
        place = ev.get("location") or {}
        loc = Location(
            city=place.get("city") or "",
            region=place.get("stateOrRegion") or "",
            country=place.get("countryCode") or "",
            postal_code=place.get("postalCode") or "",
        )
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("eventTime")), timestamps.zone_for(loc.country, loc.region)
        )
        events.append(
            make_event(
                CODES, ev.get("eventCode") or "", when, ev.get("eventCode") or "", loc, raw=ev
            )
        )
    overall = CODES.get((payload.get("summary") or {}).get("status") or "")
    return finish(
        CARRIER,
        payload.get("trackingId") or "",
        events,
        overall=overall,
        estimated_delivery=timestamps.parse_date(payload.get("promisedDeliveryDate")),
    )
