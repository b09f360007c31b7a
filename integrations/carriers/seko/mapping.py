"""SEKO Omni-Channel tracking (JSON list) -> our schema, by SEKO's ``OmniCode`` (OP-n)."""

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

CARRIER = "seko"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "OP-1": (S.INFO_RECEIVED, ""), "OP-8": (S.INFO_RECEIVED, ""), "OP-2": _IT, "OP-3": _IT,
    "OP-4": _IT, "OP-5": _IT, "OP-6": _IT, "OP-7": _IT, "OP-50": _IT, "OP-79": _IT,
    "OP-10": (S.OUT_FOR_DELIVERY, ""), "OP-11": (S.FAILED_ATTEMPT, ""),
    "OP-12": (S.AVAILABLE_FOR_PICKUP, ""), "OP-71": (S.OUT_FOR_DELIVERY, ""),
    "OP-72": (S.DELIVERED, ""), "OP-77": (S.DELIVERED, ""), "OP-20": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "OP-30": (S.EXCEPTION, ""),
}  # fmt: skip
STATUSES: CodeTable = {"DELIVERED": (S.DELIVERED, ""), "Pre-advice received": (S.INFO_RECEIVED, "")}


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if isinstance(doc, dict):
        errors = doc.get("Errors") or [{}]
        message = errors[0].get("Message") or "SEKO error"
        make = not_found if "not found" in message.lower() else error
        return make(CARRIER, message, errors[0].get("Key", ""))
    if not doc:
        return not_found(CARRIER, "no consignments")
    consignment = doc[0]
    events = []
    for ev in consignment.get("Events") or []:
        loc = split_location(ev.get("Location") or "")
        when = timestamps.parse_local(
            ev.get("EventDT"), timestamps.zone_for(loc.country, default="Europe/London")
        )
        events.append(
            make_event(
                CODES, ev.get("OmniCode") or "", when, ev.get("Description") or "", loc, raw=ev
            )
        )
    overall = STATUSES.get(consignment.get("Status") or "")
    if consignment.get("Delivered"):
        overall = (S.DELIVERED, "")
    return finish(
        CARRIER,
        consignment.get("ConsignmentNo") or "",
        events,
        status=overall if overall and overall[0] == S.DELIVERED else None,
        overall=overall,
    )
