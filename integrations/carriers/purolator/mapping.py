"""Purolator Tracking web service (SOAP, ``TrackPackagesByPinResponse``) -> our schema.

Scans carry Purolator's ``ScanType`` (Delivery, Undeliverable, OnDelivery,
ProofOfPickUp, Other); times are the depot's local time, placed in the
province the depot name ends with."""

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
from integrations.models import TrackingStatus as S

CARRIER = "purolator"

CODES: CodeTable = {
    "Delivery": (S.DELIVERED, ""),
    "Undeliverable": (S.EXCEPTION, ""),
    "OnDelivery": (S.OUT_FOR_DELIVERY, ""),
    "ProofOfPickUp": (S.IN_TRANSIT, ""),
    "Other": (S.IN_TRANSIT, ""),
}


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    errors = root.find(".//ResponseInformation/Errors")
    if errors is not None and len(errors):
        first = errors[0]
        code = text(first, "Code")
        message = text(first, "Description")
        make = not_found if "not found" in message.lower() or code == "3001" else error
        return make(CARRIER, message, code)
    fault = root.find(".//Fault")
    if fault is not None:
        return error(CARRIER, text(fault, "faultstring"), text(fault, "faultcode"))
    info = root.find(".//TrackingInformation")
    if info is None:
        return not_found(CARRIER, "no tracking information")
    events = []
    for scan in info.iterfind("Scans/Scan"):
        depot = text(scan, "Depot/Name")
        head, _, province = depot.rpartition(",")
        province = province.strip() if head else ""
        loc = Location(city=(head or depot).strip(), region=province, country="CA")
        when = timestamps.parse_local(
            f"{text(scan, 'ScanDate')} {text(scan, 'ScanTime')}",
            timestamps.zone_for("CA", province),
            "%Y-%m-%d %H%M%S",
        )
        events.append(
            make_event(
                CODES,
                text(scan, "ScanType"),
                when,
                text(scan, "Description"),
                loc,
                raw={"scan_type": text(scan, "ScanType"), "depot": depot},
            )
        )
    return finish(CARRIER, text(info, "PIN/Value"), events)
