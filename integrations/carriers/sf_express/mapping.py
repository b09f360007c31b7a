"""SF Express route query (JSON ``routeResps``) -> our schema, by SF ``opCode``.

Times are China Standard Time without an offset."""

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

CARRIER = "sf_express"
SHANGHAI = timestamps.zone("Asia/Shanghai")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "50": _IT, "51": _IT, "30": _IT, "31": _IT, "36": _IT, "3036": _IT, "105": _IT, "106": _IT,
    "44": (S.OUT_FOR_DELIVERY, ""), "204": (S.OUT_FOR_DELIVERY, ""),
    "80": (S.DELIVERED, ""), "8000": (S.DELIVERED, ""), "123": (S.AVAILABLE_FOR_PICKUP, ""),
    "70": (S.FAILED_ATTEMPT, ""), "33": (S.FAILED_ATTEMPT, ""),
    "99": (S.EXCEPTION, U.RETURNING_TO_SENDER), "648": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "607": (S.EXCEPTION, U.CUSTOMS_HOLD),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if not doc.get("success", False) or doc.get("errorCode") not in (None, "S0000"):
        return error(CARRIER, doc.get("errorMsg") or "SF Express error", doc.get("errorCode") or "")
    routes = ((doc.get("msgData") or {}).get("routeResps")) or []
    if not routes or not routes[0].get("routes"):
        number = routes[0].get("mailNo", "") if routes else ""
        return not_found(CARRIER, "no routes for this waybill", number=number)
    resp = routes[0]
    events = []
    for ev in resp["routes"]:
        when = timestamps.parse_local(ev.get("acceptTime"), SHANGHAI, "%Y-%m-%d %H:%M:%S")
        loc = Location(city=ev.get("acceptAddress") or "", country="CN")
        events.append(
            make_event(
                CODES, str(ev.get("opCode") or ""), when, ev.get("remark") or "", loc, raw=ev
            )
        )
    return finish(CARRIER, resp.get("mailNo") or "", events)
