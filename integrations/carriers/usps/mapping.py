"""USPS tracking -> our schema.

Tracking API v3 (JSON) and the retiring Web Tools TrackV2 (XML). Both carry
the scan event codes of USPS Publication 199, Appendix G-4 ("Domestic
Tracking Scan Events"), which is what we map. v3 gives each scan a UTC
instant; Web Tools only a local wall-clock time, placed in the scan's state."""

from __future__ import annotations

from datetime import datetime

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
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

CARRIER = "usps"

_IT = (S.IN_TRANSIT, "")
_RTS = (S.EXCEPTION, U.RETURNING_TO_SENDER)
_NOTICE = (S.FAILED_ATTEMPT, "")
CODES: CodeTable = {
    "01": (S.DELIVERED, ""), "17": (S.DELIVERED, ""),
    "43": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT), "63": (S.DELIVERED, ""),
    "02": _NOTICE, "52": _NOTICE, "53": _NOTICE, "54": _NOTICE,
    "55": (S.FAILED_ATTEMPT, U.BUSINESS_CLOSED), "56": _NOTICE,
    "03": _IT, "04": (S.EXCEPTION, U.REFUSED), "05": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "06": (S.IN_TRANSIT, U.REROUTED), "07": _IT, "08": _IT, "09": _RTS, "10": _IT,
    "11": (S.EXCEPTION, U.LOST), "14": (S.AVAILABLE_FOR_PICKUP, ""),
    "15": _IT, "16": (S.AVAILABLE_FOR_PICKUP, ""), "19": _IT,
    "21": (S.EXCEPTION, U.ADDRESS_PROBLEM), "22": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "23": (S.EXCEPTION, U.CUSTOMER_MOVED), "24": _RTS, "25": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "26": (S.EXCEPTION, U.ADDRESS_PROBLEM), "27": (S.EXCEPTION, U.NOT_COLLECTED),
    "28": _RTS, "29": _RTS, "31": _IT, "44": (S.EXCEPTION, U.CANCELLED),
    "80": _IT, "81": _IT, "82": _IT, "A1": _IT, "T1": _IT, "TL": _IT, "L1": _IT,
    "U1": _IT, "PC": _IT, "SF": _IT, "OA": _IT, "EF": _IT,
    "OF": (S.OUT_FOR_DELIVERY, ""), "MA": (S.INFO_RECEIVED, ""), "GX": (S.INFO_RECEIVED, ""),
}  # fmt: skip

# v3's statusCategory, used only when a scan code is new to us.
CATEGORIES: CodeTable = {
    "Pre-Shipment": (S.INFO_RECEIVED, ""), "Accepted": _IT, "In Transit": _IT,
    "Out for Delivery": (S.OUT_FOR_DELIVERY, ""), "Delivered": (S.DELIVERED, ""),
    "Delivery Attempt": _NOTICE, "Available for Pickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "Alert": (S.EXCEPTION, ""), "Return to Sender": _RTS,
}  # fmt: skip

NOT_FOUND_NUMBERS = {"-2147219302", "-2147219283", "-2147219301"}


def parse(raw: str | bytes) -> TrackingResult:
    if looks_like_xml(raw):
        return _parse_web_tools(raw)
    return _parse_v3(raw)


def _parse_v3(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if "error" in doc and "trackingEvents" not in doc:
        err = doc["error"]
        if isinstance(err, str):  # OAuth error body
            return error(CARRIER, doc.get("error_description") or err, err)
        code = str(err.get("code", ""))
        message = err.get("message", "")
        if code == "404" or "not found" in message.lower():
            return not_found(CARRIER, message, code)
        return error(CARRIER, message, code)
    fallback = CATEGORIES.get(doc.get("statusCategory") or "")
    events = []
    for scan in doc.get("trackingEvents") or []:
        loc = Location(
            city=scan.get("eventCity") or "",
            region=scan.get("eventState") or "",
            country=scan.get("eventCountry") or ("US" if scan.get("eventState") else ""),
            postal_code=scan.get("eventZIP") or "",
        )
        # The GMT instant is exact; the local time plus offset is the fallback.
        tz = timestamps.fixed_offset(scan.get("GMTOffset") or "") or timestamps.zone_for(
            "US", loc.region
        )
        when = timestamps.parse_iso(scan.get("GMTTimestamp"))
        if when is not None and when.tzinfo is not None:
            when = when.astimezone(tz)  # same instant, shown at the scan's local offset
        else:
            when = timestamps.parse_local(scan.get("eventTimestamp"), tz)
        events.append(
            make_event(
                CODES,
                scan.get("eventCode") or "",
                when,
                scan.get("eventType") or "",
                loc,
                raw=scan,
                fallback=fallback,
            )
        )
    estimated = timestamps.parse_date(
        doc.get("expectedDeliveryDate") or (doc.get("expectedDeliveryTimeStamp") or "")
    )
    return finish(
        CARRIER,
        doc.get("trackingNumber") or "",
        events,
        overall=fallback,
        estimated_delivery=estimated,
    )


def _wt_time(el) -> datetime | None:
    stamp = f"{text(el, 'EventDate')} {text(el, 'EventTime')}".strip()
    tz = timestamps.zone_for(text(el, "EventCountry") or "US", text(el, "EventState"))
    for fmt in ("%B %d, %Y %I:%M %p", "%B %d, %Y"):
        value = timestamps.parse_local(stamp if "%I" in fmt else text(el, "EventDate"), tz, fmt)
        if value is not None:
            return value
    return None


def _parse_web_tools(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    if root.tag == "Error":
        return error(CARRIER, text(root, "Description"), text(root, "Number"))
    info = root.find("TrackInfo")
    if info is None:
        return not_found(CARRIER, "no TrackInfo")
    number = info.get("ID", "")
    err = info.find("Error")
    if err is not None:
        code = text(err, "Number")
        make = not_found if code in NOT_FOUND_NUMBERS else error
        return make(CARRIER, text(err, "Description"), code, number)
    fallback = CATEGORIES.get(text(info, "StatusCategory"))
    events = []
    for el in [info.find("TrackSummary"), *info.iterfind("TrackDetail")]:
        if el is None:
            continue
        loc = Location(
            city=text(el, "EventCity"),
            region=text(el, "EventState"),
            country=text(el, "EventCountry") or ("US" if text(el, "EventState") else ""),
            postal_code=text(el, "EventZIPCode"),
        )
        events.append(
            make_event(
                CODES,
                text(el, "EventCode"),
                _wt_time(el),
                text(el, "Event"),
                loc,
                raw={c.tag: (c.text or "") for c in el},
                fallback=fallback,
            )
        )
    estimated = timestamps.parse_date(text(info, "ExpectedDeliveryDate"))
    return finish(CARRIER, number, events, overall=fallback, estimated_delivery=estimated)
