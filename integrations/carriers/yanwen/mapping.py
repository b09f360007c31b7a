"""Yanwen tracking (JSON ``result[]``) -> our schema.

Yanwen status codes are a two-letter stage and a number (PU10 accepted,
SC10 sorting, LM40 delivered); a full code we know wins over its stage.
Checkpoints give local time with a separate ``time_zone`` offset."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    lookup,
    not_found,
    split_location,
)
from integrations.carriers.schema import Event, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "yanwen"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "OR10": (S.INFO_RECEIVED, ""), "LM25": (S.OUT_FOR_DELIVERY, ""), "LM30": (S.OUT_FOR_DELIVERY, ""),
    "LM35": (S.FAILED_ATTEMPT, ""), "LM40": (S.DELIVERED, ""), "LM50": (S.EXCEPTION, ""),
    "LM60": (S.AVAILABLE_FOR_PICKUP, ""), "LM70": (S.EXCEPTION, U.RETURNING_TO_SENDER),
}  # fmt: skip
STAGES: CodeTable = {
    "OR": (S.INFO_RECEIVED, ""),
    "PU": _IT,
    "SC": _IT,
    "LH": _IT,
    "CC": _IT,
    "LM": _IT,
}


def _map(code: str) -> tuple[str, str, bool]:
    return lookup(CODES, code) if code in CODES else lookup(STAGES, code[:2])


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if str(doc.get("code")) != "0":
        return error(CARRIER, doc.get("message") or "Yanwen error", str(doc.get("code", "")))
    results = doc.get("result") or []
    if not results:
        return not_found(CARRIER, "no result")
    res = results[0]
    if not res.get("checkpoints") and not res.get("tracking_status"):
        return not_found(CARRIER, "no checkpoints", number=res.get("tracking_number", ""))
    events = []
    for ev in res.get("checkpoints") or []:
        code = ev.get("tracking_status") or ""
        status, substatus, mapped = _map(code)
        tz = timestamps.fixed_offset(str(ev.get("time_zone") or "")) or timestamps.zone(
            "Asia/Shanghai"
        )
        when = timestamps.parse_local(ev.get("time_stamp"), tz)
        events.append(
            Event(
                when,
                status,
                code,
                ev.get("message") or "",
                substatus,
                split_location(ev.get("location") or ""),
                mapped,
                ev,
            )
        )
    overall_code = res.get("tracking_status") or ""
    overall = _map(overall_code)[:2] if overall_code else None
    return finish(CARRIER, res.get("tracking_number") or "", events, overall=overall)
