"""Royal Mail Tracking API v2 (JSON, ``mailPieces``) -> our schema.

Events carry Royal Mail's five-letter event codes (EVKOP, EVNDA, ...);
timestamps come with their offset."""

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

CARRIER = "royalmail"

_IT = (S.IN_TRANSIT, "")
_AWAY = (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE)
_REDELIVERY = _IT
CODES: CodeTable = {
    "EVAIP": (S.INFO_RECEIVED, ""), "EVAIE": (S.INFO_RECEIVED, ""),
    "EVBAH": _IT, "EVDAC": _IT, "EVDAV": _IT, "EVIAV": _IT, "EVIMC": _IT,
    "EVGMI": (S.IN_TRANSIT, U.REROUTED), "EVIPI": (S.IN_TRANSIT, U.REROUTED),
    "EVNMI": (S.IN_TRANSIT, U.REROUTED), "EVGPD": (S.OUT_FOR_DELIVERY, ""),
    "EVKAA": (S.FAILED_ATTEMPT, U.ADDRESS_PROBLEM), "EVNAA": (S.FAILED_ATTEMPT, U.ADDRESS_PROBLEM),
    "EVKAI": (S.EXCEPTION, U.ADDRESS_PROBLEM), "EVKDN": (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR),
    "EVKGA": (S.EXCEPTION, U.CUSTOMER_MOVED), "EVNGA": (S.EXCEPTION, U.CUSTOMER_MOVED),
    "EVKLC": (S.AVAILABLE_FOR_PICKUP, ""), "EVKNA": _AWAY, "EVNDA": _AWAY,
    "EVKOP": (S.DELIVERED, ""), "EVKSP": (S.DELIVERED, ""),
    "EVKRF": (S.EXCEPTION, U.REFUSED), "EVNRF": (S.EXCEPTION, U.REFUSED),
    "EVKSF": (S.DELIVERED, U.DELIVERED_SAFE_PLACE), "EVKSU": (S.FAILED_ATTEMPT, ""),
    "EVNAR": _REDELIVERY, "EVNDN": (S.FAILED_ATTEMPT, ""),
    "EVNKS": (S.IN_TRANSIT, U.HELD_AT_DEPOT), "EVNRT": (S.IN_TRANSIT, U.HELD_AT_DEPOT),
    "EVNOC": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "EVPLC": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "EVRTS": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "ASRXS": _REDELIVERY, "RFRXS": _REDELIVERY, "RNRXS": _REDELIVERY,
    "RORXS": _REDELIVERY, "RPRXS": _REDELIVERY, "RSRXS": _REDELIVERY,
}  # fmt: skip

CATEGORIES: CodeTable = {
    "IN TRANSIT": _IT, "DELIVERED": (S.DELIVERED, ""), "RETURNED": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "COLLECT": (S.AVAILABLE_FOR_PICKUP, ""), "PREPARING": (S.INFO_RECEIVED, ""),
    "ATTEMPTED DELIVERY": (S.FAILED_ATTEMPT, ""), "WITH US": _IT,
}  # fmt: skip

# "Barcode not recognised" and friends: the number is unknown to Royal Mail.
NOT_FOUND_CODES = {"E1142", "E1143", "E1144", "E1145", "E1146", "E1147", "E1148"}


def _error(err: dict, number: str = "") -> TrackingResult:
    code = err.get("errorCode", "")
    make = not_found if code in NOT_FOUND_CODES else error
    return make(CARRIER, err.get("errorDescription", ""), code, number)


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if doc.get("errors"):
        return _error(doc["errors"][0])
    piece = doc.get("mailPieces")
    if isinstance(piece, list):  # the multi-item summary endpoint
        if not piece:
            return not_found(CARRIER, "no mail pieces")
        piece = piece[0]
    if not piece:
        return error(CARRIER, doc.get("httpMessage") or "unexpected Royal Mail reply")
    summary = piece.get("summary") or {}
    number = summary.get("oneDBarcode") or piece.get("mailPieceId") or ""
    if piece.get("error"):
        return _error(piece["error"], number)
    events = []
    for ev in piece.get("events") or []:
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("eventDateTime")), timestamps.zone("Europe/London")
        )
        loc = Location(city=ev.get("locationName") or "", country="GB")
        events.append(
            make_event(
                CODES, ev.get("eventCode") or "", when, ev.get("eventName") or "", loc, raw=ev
            )
        )
    if not events and summary.get("lastEventCode"):
        when = timestamps.parse_iso(summary.get("lastEventDateTime"))
        loc = Location(city=summary.get("lastEventLocationName") or "", country="GB")
        events.append(
            make_event(
                CODES,
                summary["lastEventCode"],
                when,
                summary.get("lastEventName") or "",
                loc,
                raw=summary,
            )
        )
    overall = CATEGORIES.get((summary.get("statusCategory") or "").upper())
    estimated = timestamps.parse_date((piece.get("estimatedDelivery") or {}).get("date"))
    return finish(CARRIER, number, events, overall=overall, estimated_delivery=estimated)
