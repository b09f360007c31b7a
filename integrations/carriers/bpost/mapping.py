"""bpost item tracking (XML ``itemTracking``) -> our schema, by bpost ``stateCode``."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_xml,
    lookup,
    not_found,
    text,
)
from integrations.carriers.schema import Event, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "bpost"
BRUSSELS = timestamps.zone("Europe/Brussels")

CODES: CodeTable = {
    "A00": (S.INFO_RECEIVED, ""), "U01": (S.DELIVERED, ""),
    "U02": (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR), "U03": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "N00": (S.FAILED_ATTEMPT, ""), "P00": (S.AVAILABLE_FOR_PICKUP, ""),
    "R00": (S.EXCEPTION, U.RETURNING_TO_SENDER),
}  # fmt: skip
# The letter is bpost's stage: T sorted/transport, L loaded for distribution.
STAGES: CodeTable = {
    "T": (S.IN_TRANSIT, ""),
    "L": (S.OUT_FOR_DELIVERY, ""),
    "C": (S.IN_TRANSIT, ""),
}


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    if root.tag != "itemTracking":
        message = text(root, "message") or text(root, ".//message") or "unexpected bpost reply"
        make = not_found if "not found" in message.lower() else error
        return make(CARRIER, message)
    events = []
    for state in root.iterfind("stateInfo"):
        code = text(state, "stateCode")
        status, substatus, mapped = (
            lookup(CODES, code) if code in CODES else lookup(STAGES, code[:1])
        )
        when = timestamps.localize(timestamps.parse_iso(text(state, "time")), BRUSSELS)
        events.append(
            Event(
                when,
                status,
                code,
                text(state, "stateDescription"),
                substatus,
                raw={"stateCode": code},
                is_mapped=mapped,
            )
        )
    return finish(CARRIER, text(root, "itemCode"), events)
