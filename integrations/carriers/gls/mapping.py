"""GLS Track And Trace API (JSON, ``parcels[]``) -> our schema.

Event codes are ``FAMILY.DETAIL`` (e.g. ``INTRANSIT.NORMAL``); a detail code
we know wins, otherwise the family is the documented parcel status."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    lookup,
    not_found,
)
from integrations.carriers.schema import Event, Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "gls"

_IT = (S.IN_TRANSIT, "")
FAMILIES: CodeTable = {
    "PREADVICE": (S.INFO_RECEIVED, ""), "INTIAL": _IT, "INITIAL": _IT, "INTRANSIT": _IT,
    "INWAREHOUSE": _IT, "INDELIVERY": (S.OUT_FOR_DELIVERY, ""),
    "DELIVERED": (S.DELIVERED, ""), "DELIVEREDPS": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "NOTDELIVERED": (S.FAILED_ATTEMPT, ""), "CANCELED": (S.EXCEPTION, U.CANCELLED),
    "FINAL": (S.DELIVERED, ""), "INPICKUPSHOP": (S.AVAILABLE_FOR_PICKUP, ""),
    "RETURNED": (S.EXCEPTION, U.RETURNED_TO_SENDER),
}  # fmt: skip
CODES: CodeTable = {
    "INTIAL.PREADVICE": (S.INFO_RECEIVED, ""),
    "INTIAL.NORMAL": _IT,
    "DELIVERED.NEIGHBOR": (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR),
    "DELIVERED.DEPOSIT": (S.DELIVERED, U.DELIVERED_SAFE_PLACE),
    "NOTDELIVERED.NOTATHOME": (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE),
    "NOTDELIVERED.REFUSED": (S.EXCEPTION, U.REFUSED),
    "NOTDELIVERED.WRONGADDRESS": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "NOTDELIVERED.DAMAGED": (S.EXCEPTION, U.DAMAGED),
}


def _map(code: str) -> tuple[str, str, bool]:
    if code in CODES:
        return (*CODES[code], True)
    return lookup(FAMILIES, code.partition(".")[0])


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    parcels = doc.get("parcels")
    if not parcels:
        return error(
            CARRIER, doc.get("message") or doc.get("errorMessage") or "unexpected GLS reply"
        )
    parcel = parcels[0]
    number = parcel.get("unitno") or parcel.get("requested") or ""
    if parcel.get("errorCode"):
        code = parcel["errorCode"]
        make = not_found if code.startswith("E_404") else error
        return make(CARRIER, parcel.get("errorMessage", ""), code, number)
    events = []
    for ev in parcel.get("events") or []:
        code = ev.get("code") or ""
        status, substatus, mapped = _map(code)
        loc = Location(
            city=ev.get("city") or "",
            country=ev.get("country") or "",
            postal_code=ev.get("postalCode") or "",
        )
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("eventDateTime")),
            timestamps.zone_for(loc.country, default="Europe/Berlin"),
        )
        events.append(
            Event(
                when,
                status,
                code,
                " ".join((ev.get("description") or "").split()),
                substatus,
                loc,
                mapped,
                ev,
            )
        )
    overall = FAMILIES.get(parcel.get("status") or "")
    return finish(CARRIER, number, events, overall=overall)
