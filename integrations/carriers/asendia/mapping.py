"""Asendia Sync tracking (JSON) -> our schema, by Asendia's two-letter event ``code``."""

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

CARRIER = "asendia"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "IR": (S.INFO_RECEIVED, ""), "PU": _IT, "IT": _IT, "AR": _IT, "DP": _IT, "CC": _IT,
    "CH": (S.EXCEPTION, U.CUSTOMS_HOLD), "OD": (S.OUT_FOR_DELIVERY, ""),
    "DL": (S.DELIVERED, ""), "AT": (S.FAILED_ATTEMPT, ""), "PP": (S.AVAILABLE_FOR_PICKUP, ""),
    "RT": (S.EXCEPTION, U.RETURNING_TO_SENDER), "EX": (S.EXCEPTION, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if isinstance(doc, list):
        doc = doc[0] if doc else {}
    if "trackingEvents" not in doc:
        status = doc.get("status")
        message = doc.get("detail") or doc.get("title") or "unexpected Asendia reply"
        make = not_found if status == 404 else error
        return make(CARRIER, message, str(status or doc.get("message") or ""))
    events = []
    for ev in doc.get("trackingEvents") or []:
        loc = Location(city=ev.get("locationName") or "", country=ev.get("locationCountry") or "")
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("time")), timestamps.zone_for(loc.country)
        )
        events.append(
            make_event(
                CODES,
                ev.get("code") or "",
                when,
                ev.get("carrierEventDescription") or "",
                loc,
                raw=ev,
            )
        )
    return finish(CARRIER, doc.get("trackingNumber") or "", events)
