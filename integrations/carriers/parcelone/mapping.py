"""ParcelOne tracking (JSON ``results``) -> our schema, by ParcelOne ``StatusCode``."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    make_event,
    split_location,
)
from integrations.carriers.schema import Substatus as U
from integrations.carriers.schema import TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "parcelone"
BERLIN = timestamps.zone("Europe/Berlin")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "REGISTERED": (S.INFO_RECEIVED, ""), "IN_TRANSIT": _IT, "ARRIVED": _IT,
    "OUT_FOR_DELIVERY": (S.OUT_FOR_DELIVERY, ""), "DELIVERED": (S.DELIVERED, ""),
    "NOT_DELIVERED": (S.FAILED_ATTEMPT, ""), "PICKUP_READY": (S.AVAILABLE_FOR_PICKUP, ""),
    "RETURNED": (S.EXCEPTION, U.RETURNED_TO_SENDER), "EXCEPTION": (S.EXCEPTION, ""),
    "UNKNOWN": (S.PENDING, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if not doc.get("success"):
        return error(CARRIER, str(doc.get("message") or doc.get("errors") or "ParcelOne error"))
    results = doc.get("results") or {}
    events = []
    for ev in results.get("Events") or []:
        loc = split_location(ev.get("Location") or "")
        when = timestamps.parse_local(ev.get("DateTime"), BERLIN)
        events.append(
            make_event(
                CODES, ev.get("StatusCode") or "", when, ev.get("Description") or "", loc, raw=ev
            )
        )
    overall = CODES.get(results.get("StatusCode") or "")
    return finish(
        CARRIER,
        results.get("CarrierTrackingID") or results.get("TrackingID") or "",
        events,
        overall=overall,
    )
