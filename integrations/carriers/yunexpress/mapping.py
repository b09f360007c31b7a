"""YunExpress tracking (JSON) -> our schema.

``Tracking/GetTrackAll`` returns ``Item`` with ``PackageState`` and
``OrderTrackingDetails`` (each with a ``TrackingStatus`` code); a waybill
lookup returns ``Items`` with numbers only, meaning the label exists."""

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

CARRIER = "yunexpress"
SHANGHAI = timestamps.zone("Asia/Shanghai")

STATES: CodeTable = {
    "0": (S.PENDING, ""), "1": (S.INFO_RECEIVED, ""), "2": (S.IN_TRANSIT, ""),
    "3": (S.DELIVERED, ""), "4": (S.EXPIRED, ""), "5": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "6": (S.FAILED_ATTEMPT, ""), "7": (S.EXCEPTION, ""), "8": (S.AVAILABLE_FOR_PICKUP, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    code = str(doc.get("ResultCode") or doc.get("Code") or "")
    if not code:
        return error(CARRIER, doc.get("Message") or doc.get("MessageDetail") or "YunExpress error")
    if code not in ("0000", "0"):
        make = not_found if code in ("1001", "5001") else error
        return make(CARRIER, doc.get("ResultDesc") or doc.get("Message") or "", code)
    item = doc.get("Item")
    if item is None:
        items = doc.get("Items") or []
        if not items:
            return not_found(CARRIER, "no items")
        first = items[0]
        number = first.get("WayBillNumber") or first.get("TrackingNumber") or ""
        return finish(CARRIER, number, [], overall=(S.INFO_RECEIVED, ""))
    events = []
    for ev in item.get("OrderTrackingDetails") or []:
        when = timestamps.parse_local(ev.get("ProcessDate"), SHANGHAI)
        loc = split_location(ev.get("ProcessLocation") or "")
        events.append(
            make_event(
                STATES,
                str(ev.get("TrackingStatus", "")),
                when,
                ev.get("ProcessContent") or "",
                loc,
                raw=ev,
            )
        )
    overall = STATES.get(str(item.get("PackageState", "")))
    return finish(
        CARRIER,
        item.get("WaybillNumber") or item.get("TrackingNumber") or "",
        events,
        overall=overall,
    )
