"""TNT Express tracking (XML ``TrackResponse``) -> our schema.

Each ``StatusData`` carries TNT's status code (OK delivered, OD out for
delivery, ...) and the depot's local date and time; ``SummaryCode`` (DEL,
INT, EXC, CNF) is the consignment-level fallback."""

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

CARRIER = "tnt"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "OK": (S.DELIVERED, ""), "OD": (S.OUT_FOR_DELIVERY, ""), "IR": _IT, "TR": _IT, "IS": _IT,
    "AS": _IT, "CI": _IT, "PU": _IT, "MLA": _IT, "CC": _IT,
    "NR": (S.IN_TRANSIT, U.CARRIER_DELAY), "RTS": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "CNA": (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE), "REF": (S.EXCEPTION, U.REFUSED),
}  # fmt: skip
SUMMARY: CodeTable = {
    "DEL": (S.DELIVERED, ""),
    "INT": _IT,
    "EXC": (S.EXCEPTION, ""),
    "NOT": (S.INFO_RECEIVED, ""),
}


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    err = root.find("Error")
    if err is not None:
        return error(CARRIER, text(err, "Message"), text(err, "Code"))
    consignment = root.find("Consignment")
    if consignment is None:
        return not_found(CARRIER, "no consignment")
    number = text(consignment, "ConsignmentNumber")
    summary = text(consignment, "SummaryCode")
    if summary == "CNF":
        return not_found(CARRIER, "consignment not found", summary, number)
    country = text(consignment, "DestinationCountry/CountryCode")
    fallback = SUMMARY.get(summary)
    events = []
    for data in consignment.iterfind("StatusData"):
        loc = Location(city=text(data, "DepotName"))
        when = timestamps.parse_local(
            text(data, "LocalEventDate") + text(data, "LocalEventTime"),
            timestamps.zone_for(country),
            "%Y%m%d%H%M",
        )
        events.append(
            make_event(
                CODES,
                text(data, "StatusCode"),
                when,
                text(data, "StatusDescription"),
                loc,
                raw={"StatusCode": text(data, "StatusCode"), "Depot": text(data, "Depot")},
                fallback=fallback,
            )
        )
    pieces = int(text(consignment, "PieceQuantity") or 1) or 1
    return finish(CARRIER, number, events, overall=fallback, pieces=pieces)
