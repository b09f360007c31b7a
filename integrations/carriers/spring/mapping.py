"""Spring GDS ``TrackShipment`` (JSON) -> our schema, by Spring's numeric event ``Code``.

Events carry a Unix ``Timestamp``; that instant is used rather than the local string."""

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

CARRIER = "spring"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "0": (S.INFO_RECEIVED, ""), "20": _IT, "18": _IT, "21": _IT, "31": _IT, "40": _IT, "41": _IT,
    "43": (S.EXCEPTION, U.CUSTOMS_HOLD), "80": _IT, "81": (S.OUT_FOR_DELIVERY, ""),
    "82": (S.FAILED_ATTEMPT, ""), "83": (S.AVAILABLE_FOR_PICKUP, ""), "84": (S.EXCEPTION, ""),
    "85": (S.EXCEPTION, U.RETURNING_TO_SENDER), "91": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "93": (S.EXCEPTION, U.LOST), "100": (S.DELIVERED, ""), "101": (S.EXCEPTION, U.CANCELLED),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    level = int(doc.get("ErrorLevel") or 0)
    if level != 0:
        message = doc.get("Error") or "Spring error"
        make = not_found if "not found" in message.lower() else error
        return make(CARRIER, message, str(level))
    shipment = doc.get("Shipment") or {}
    events = []
    for ev in shipment.get("Events") or []:
        loc = Location(
            city=ev.get("City") or "",
            region=ev.get("State") or "",
            country=ev.get("Country") or "",
            postal_code=ev.get("Zip") or "",
        )
        if ev.get("Timestamp"):
            when = timestamps.from_epoch(float(ev["Timestamp"])).astimezone(
                timestamps.zone_for(loc.country)
            )
        else:
            when = timestamps.parse_local(
                ev.get("DateTime"), timestamps.zone_for(loc.country), "%Y-%m-%d %H:%M:%S"
            )
        events.append(
            make_event(
                CODES, str(ev.get("Code", "")), when, ev.get("Description") or "", loc, raw=ev
            )
        )
    return finish(CARRIER, shipment.get("TrackingNumber") or "", events)
