"""DHL Parcel Germany (Paket) tracking XML (``piece-shipment-list``) -> our schema.

Events carry DHL's ``standard-event-code`` and the finer ``ice`` event code;
we map the standard code and fall back to ICE. Times are German local time."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    country_from_name,
    error,
    finish,
    load_xml,
    make_event,
    not_found,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "dhl_parcel_de"
BERLIN = timestamps.zone("Europe/Berlin")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "VA": (S.INFO_RECEIVED, ""), "ES": _IT, "AE": _IT, "AA": _IT, "EE": _IT,
    "PO": (S.OUT_FOR_DELIVERY, ""), "ZU": (S.DELIVERED, ""),
    "NZ": (S.FAILED_ATTEMPT, ""), "AB": (S.AVAILABLE_FOR_PICKUP, ""),
}  # fmt: skip
ICE: CodeTable = {
    "SHRCU": _IT, "LDTMV": _IT, "PCKDU": _IT, "ULFMV": _IT, "SRTED": _IT,
    "DLVRD": (S.DELIVERED, ""), "NTDEL": (S.FAILED_ATTEMPT, ""),
}  # fmt: skip

# "code" on the list: 0 is success, 100 "no data found".
NOT_FOUND_CODES = {"100"}


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    if root.tag != "data":
        return error(CARRIER, "unexpected DHL Parcel reply")
    code = root.get("code", "0")
    if code != "0":
        message = root.get("error") or "DHL Parcel error"
        piece = root.find("data")
        number = piece.get("piece-code", "") if piece is not None else ""
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, message, code, number)
    piece = root.find("data[@name='piece-shipment']")
    if piece is None:
        return not_found(CARRIER, "no piece in response")
    events = []
    for ev in piece.iterfind(".//data[@name='piece-event']"):
        standard = ev.get("standard-event-code", "")
        ice = ev.get("ice", "")
        loc = Location(
            city=ev.get("event-location", ""), country=country_from_name(ev.get("event-country"))
        )
        when = timestamps.parse_local(ev.get("event-timestamp"), BERLIN, "%d.%m.%Y %H:%M")
        description = ev.get("event-text") or ev.get("event-status") or ""
        table, code = (CODES, standard) if standard in CODES or ice not in ICE else (ICE, ice)
        events.append(make_event(table, code, when, description, loc, raw=dict(ev.attrib)))
    overall = CODES.get(piece.get("standard-event-code", "")) or ICE.get(piece.get("ice", ""))
    return finish(CARRIER, piece.get("piece-code", ""), events, overall=overall)
