"""DHL Express -> our schema.

The XML Services tracking reply (``req:TrackingResponse``) and the MyDHL API
(JSON, ``shipments[]``) both carry DHL Express's two-letter checkpoint event
codes. Scan times are the service area's local time without an offset, so
the country is read from the service area's description."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from integrations.carriers import timestamps, xmlscan
from integrations.carriers.payloads import (
    CodeTable,
    country_from_name,
    error,
    finish,
    load_json,
    load_xml,
    looks_like_xml,
    make_event,
    not_found,
    text,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "dhl_express"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "PU": _IT, "PL": _IT, "DF": _IT, "AF": _IT, "AR": _IT, "PO": _IT, "RW": _IT,
    "CI": _IT, "CR": _IT, "DS": _IT, "FD": _IT, "IC": _IT, "MC": _IT, "MS": _IT,
    "RR": _IT, "SA": _IT, "SC": _IT, "TR": _IT, "TP": _IT, "BN": _IT, "IA": _IT,
    "CU": _IT, "SI": _IT, "ES": _IT, "AD": _IT,
    "WC": (S.OUT_FOR_DELIVERY, ""),
    "OK": (S.DELIVERED, ""), "DD": (S.DELIVERED, U.DAMAGED), "PD": (S.DELIVERED, ""),
    "CC": (S.AVAILABLE_FOR_PICKUP, ""),
    "NH": (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE),
    "CA": (S.FAILED_ATTEMPT, U.BUSINESS_CLOSED), "CS": (S.FAILED_ATTEMPT, U.BUSINESS_CLOSED),
    "MD": (S.FAILED_ATTEMPT, ""), "NA": (S.FAILED_ATTEMPT, ""),
    "BA": (S.EXCEPTION, U.ADDRESS_PROBLEM), "CM": (S.EXCEPTION, U.CUSTOMER_MOVED),
    "CD": (S.EXCEPTION, U.CUSTOMS_HOLD), "UD": (S.EXCEPTION, U.CUSTOMS_HOLD),
    "HP": (S.EXCEPTION, U.DUTIES_DUE), "OH": (S.EXCEPTION, U.HELD_AT_DEPOT),
    "RD": (S.EXCEPTION, U.REFUSED), "RT": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "TD": (S.EXCEPTION, U.CARRIER_DELAY), "SS": (S.EXCEPTION, ""),
    "DM": (S.EXCEPTION, U.DAMAGED), "ND": (S.EXCEPTION, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    if looks_like_xml(raw):
        return _parse_xml(raw)
    return _parse_mydhl(raw)


def _area(description: str) -> Location:
    """'Barcelona - Spain' / 'SPRINGFIELD GARDENS,NY-USA' / 'KINGSTON-JAM'."""
    return Location(*_area_parts(description))


@lru_cache(maxsize=1024)
def _area_parts(description: str) -> tuple[str, str, str]:
    # A reply repeats the same few service areas on every scan.
    head, sep, tail = description.strip().rpartition("-")
    if not sep:
        return description.strip(), "", ""
    country = country_from_name(tail)
    city, _, region = head.strip().partition(",")
    return city.strip(), region.strip(), country


def _event(date: str, time: str, code: str, description: str, area: str, area_code: str):
    city, region, country = _area_parts(area)
    when = timestamps.parse_local(f"{date}T{time}", timestamps.zone_for(country, region))
    return make_event(
        CODES,
        code,
        when,
        description,
        Location(city, region, country),
        raw={"code": code, "area": area_code},
    )


def _scan_xml(raw: str | bytes) -> TrackingResult | None:
    """The success reply read by string search (see xmlscan); None when the
    full parser must read it."""
    doc = xmlscan.document(raw)
    info = doc and xmlscan.section(doc, "<AWBInfo>", "</AWBInfo>")
    if not info:
        return None
    value = xmlscan.value
    status = xmlscan.section(info, "<Status>", "</Status>")
    if status is None or value(status, "<ActionStatus>").lower() != "success":
        return None
    shipment = xmlscan.section(info, "<ShipmentInfo>", "</ShipmentInfo>") or ""
    scans = xmlscan.records(shipment, "ShipmentEvent")
    if scans is None:
        return None
    events = []
    for scan in scans:
        # ServiceEvent comes before ServiceArea (schema order) and both
        # have a Description, so each is read from its own side.
        head, _, area = scan.partition("<ServiceArea>")
        events.append(
            _event(
                value(head, "<Date>"),
                value(head, "<Time>"),
                value(head, "<EventCode>"),
                value(head, "<Description>"),
                value(area, "<Description>"),
                value(area, "<ServiceAreaCode>"),
            )
        )
    # Shipment-level fields sit before and after the scans, never inside one.
    first, _, rest = shipment.partition("<ShipmentEvent>")
    outside = first + rest[rest.rfind("</ShipmentEvent>") :] if rest else first
    estimated = timestamps.parse_date(value(outside, "<EstDlvyDate>"))
    pieces = int(value(outside, "<Pieces>") or 1) or 1
    number = value(info, "<AWBNumber>")
    return finish(CARRIER, number, events, estimated_delivery=estimated, pieces=pieces)


def _parse_xml(raw: str | bytes) -> TrackingResult:
    scanned = _scan_xml(raw)
    if scanned is not None:
        return scanned
    root = load_xml(raw)
    if root.tag == "ShipmentTrackingErrorResponse" or root.find("AWBInfo") is None:
        condition = root.find(".//Condition")
        return error(CARRIER, text(condition, "ConditionData"), text(condition, "ConditionCode"))
    info = root.find("AWBInfo")
    number = text(info, "AWBNumber")
    action = text(info, "Status/ActionStatus")
    if action.lower() != "success":
        condition = info.find("Status/Condition")
        code = text(condition, "ConditionCode")
        message = text(condition, "ConditionData") or action
        make = not_found if code == "103" or "no shipments" in action.lower() else error
        return make(CARRIER, message, code, number)
    shipment = info.find("ShipmentInfo")
    events = []
    for ev in shipment.iterfind("ShipmentEvent") if shipment is not None else ():
        events.append(
            _event(
                text(ev, "Date"),
                text(ev, "Time"),
                text(ev, "ServiceEvent/EventCode"),
                text(ev, "ServiceEvent/Description"),
                text(ev, "ServiceArea/Description"),
                text(ev, "ServiceArea/ServiceAreaCode"),
            )
        )
    estimated = timestamps.parse_date(text(shipment, "EstDlvyDate"))
    pieces = int(text(shipment, "Pieces") or 1) or 1
    return finish(CARRIER, number, events, estimated_delivery=estimated, pieces=pieces)


def _parse_mydhl(raw: str | bytes) -> TrackingResult:
    doc: Any = load_json(raw)
    shipments = doc.get("shipments")
    if not shipments:
        status = doc.get("status")
        message = doc.get("detail") or doc.get("title") or "no shipments"
        if status == 404 or shipments == []:
            return not_found(CARRIER, message, str(status or ""))
        return error(CARRIER, message, str(status or ""))
    shipment = shipments[0]
    events = []
    for ev in shipment.get("events") or []:
        area = (ev.get("serviceArea") or [{}])[0]
        loc = Location(city=area.get("description") or "")
        if "," in loc.city:
            city, _, region = loc.city.partition(",")
            region = region.strip()
            country = "US" if region in timestamps.US_STATES else ""
            loc = Location(city=city.strip(), region=region, country=country)
        tz = timestamps.fixed_offset(ev.get("GMTOffset") or "") or timestamps.zone_for(
            loc.country, loc.region
        )
        when = timestamps.parse_local(f"{ev.get('date')}T{ev.get('time')}", tz)
        events.append(
            make_event(
                CODES, ev.get("typeCode") or "", when, ev.get("description") or "", loc, raw=ev
            )
        )
    estimated = timestamps.parse_date(shipment.get("estimatedTimeOfDelivery"))
    pieces = int(shipment.get("numberOfPieces") or 1)
    return finish(
        CARRIER,
        shipment.get("shipmentTrackingNumber") or "",
        events,
        estimated_delivery=estimated,
        pieces=pieces,
    )
