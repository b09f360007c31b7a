"""DHL's unified Shipment Tracking API (JSON, all DHL divisions) -> our schema.

Every event carries the API's ``statusCode`` enumeration (pre-transit,
transit, delivered, failure, unknown); that is what we map."""

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

CARRIER = "dhl"

CODES: CodeTable = {
    "pre-transit": (S.INFO_RECEIVED, ""),
    "transit": (S.IN_TRANSIT, ""),
    "delivered": (S.DELIVERED, ""),
    "failure": (S.EXCEPTION, ""),
}


def _location(place: dict) -> Location:
    address = (place or {}).get("address") or {}
    return Location(
        city=address.get("addressLocality") or "",
        country=address.get("countryCode") or "",
        postal_code=address.get("postalCode") or "",
    )


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    shipments = doc.get("shipments")
    if not shipments:
        status = doc.get("status")
        message = doc.get("detail") or doc.get("title") or "no shipments"
        make = not_found if status == 404 or shipments == [] else error
        return make(CARRIER, message, str(status or ""))
    shipment = shipments[0]
    events = []
    for ev in shipment.get("events") or []:
        loc = _location(ev.get("location"))
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("timestamp")), timestamps.zone_for(loc.country)
        )
        description = ev.get("description") or ev.get("status") or ""
        events.append(make_event(CODES, ev.get("statusCode") or "", when, description, loc, raw=ev))
    overall = CODES.get((shipment.get("status") or {}).get("statusCode") or "")
    estimated = timestamps.parse_date(shipment.get("estimatedTimeOfDelivery"))
    return finish(
        CARRIER,
        str(shipment.get("id") or ""),
        events,
        overall=overall,
        estimated_delivery=estimated,
    )
