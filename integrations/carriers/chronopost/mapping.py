"""Chronopost tracking (SOAP ``trackSkybillV2``) -> our schema, by Chronopost event code."""

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

CARRIER = "chronopost"
PARIS = timestamps.zone("Europe/Paris")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "DC": (S.INFO_RECEIVED, ""), "DB": _IT, "DY": _IT, "SC": _IT, "TS": _IT, "SD": _IT,
    "PC": _IT, "EC": _IT, "TA": (S.OUT_FOR_DELIVERY, ""), "D": (S.DELIVERED, ""),
    "D1": (S.DELIVERED, ""), "D2": (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR),
    "B": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT), "IP": (S.AVAILABLE_FOR_PICKUP, ""),
    "AG": (S.AVAILABLE_FOR_PICKUP, ""), "AA": (S.FAILED_ATTEMPT, ""),
    "RB": (S.EXCEPTION, U.RETURNING_TO_SENDER), "R": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "CD": (S.EXCEPTION, U.CUSTOMS_HOLD), "RG": (S.EXCEPTION, U.REFUSED),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    ret = root.find(".//return")
    if ret is None:
        return error(CARRIER, text(root, ".//faultstring") or "unexpected Chronopost reply")
    code = text(ret, "errorCode") or "0"
    if code != "0":
        make = not_found if code == "3" else error
        return make(CARRIER, text(ret, "errorMessage"), code)
    events = []
    number = ""
    for ev in ret.iterfind(".//events"):
        when = timestamps.localize(timestamps.parse_iso(text(ev, "eventDate")), PARIS)
        loc = Location(city=text(ev, "officeLabel"), postal_code=text(ev, "zipCode"))
        events.append(
            make_event(
                CODES,
                text(ev, "code"),
                when,
                text(ev, "eventLabel"),
                loc,
                raw={"code": text(ev, "code")},
            )
        )
    number = text(ret, ".//skybillNumber")
    if not events and not number:
        return not_found(CARRIER, "no events")
    return finish(CARRIER, number, events)
