"""Canpar ``trackByBarcode`` (SOAP) -> our schema, by Canpar event code (PIC, ARR, INO, DEL...)."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_xml,
    make_event,
    not_found,
    text,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "canpar"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "PIC": _IT, "ARR": _IT, "INO": _IT, "DEP": _IT, "INA": (S.OUT_FOR_DELIVERY, ""),
    "DEL": (S.DELIVERED, ""), "NDL": (S.FAILED_ATTEMPT, ""), "ATT": (S.FAILED_ATTEMPT, ""),
    "RTS": (S.EXCEPTION, U.RETURNING_TO_SENDER), "HLD": (S.EXCEPTION, U.HELD_AT_DEPOT),
    "DAM": (S.EXCEPTION, U.DAMAGED), "BAD": (S.EXCEPTION, U.ADDRESS_PROBLEM),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    ret = root.find(".//return")
    if ret is None:
        return error(
            CARRIER,
            text(root, ".//faultstring") or text(root, ".//Text") or "unexpected Canpar reply",
        )
    err = text(ret, "error")
    if err:
        make = not_found if "not found" in err.lower() else error
        return make(CARRIER, err)
    result = ret.find("result")
    if result is None:
        return not_found(CARRIER, "no result")
    events = []
    for ev in result.iterfind("events"):
        address = ev.find("address")
        loc = Location(
            city=text(address, "city"),
            region=text(address, "province"),
            country=text(address, "country") or "CA",
            postal_code=text(address, "postal_code"),
        )
        when = timestamps.parse_local(
            text(ev, "local_date_time"), timestamps.zone_for("CA", loc.region), "%Y%m%d %H%M%S"
        )
        events.append(
            make_event(
                CODES,
                text(ev, "code"),
                when,
                text(ev, "code_description_en") or text(ev, "description_en"),
                loc,
                raw={"code": text(ev, "code")},
            )
        )
    estimated = timestamps.parse_date(text(result, "estimated_delivery_date"))
    return finish(CARRIER, text(result, "barcode"), events, estimated_delivery=estimated)
