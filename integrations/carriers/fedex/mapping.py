"""FedEx tracking -> our schema.

Two formats: the Track API (JSON, ``output.completeTrackResults``) and the
older Web Services SOAP reply (``TrackReply``), still returned by many
accounts. Both carry FedEx's two-letter tracking status codes (FedEx
developer documentation, "Tracking Status Codes") on every scan, and scan
times with their UTC offset."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from integrations.carriers import timestamps, xmlscan
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

CARRIER = "fedex"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "AA": _IT, "AC": _IT, "AD": (S.OUT_FOR_DELIVERY, ""), "AE": _IT, "AF": _IT,
    "AO": _IT, "AP": (S.INFO_RECEIVED, ""), "AR": _IT, "AX": _IT,
    "CA": (S.EXCEPTION, U.CANCELLED), "CH": (S.IN_TRANSIT, U.REROUTED),
    "DD": (S.EXCEPTION, U.CARRIER_DELAY), "DE": (S.FAILED_ATTEMPT, ""),
    "DL": (S.DELIVERED, ""), "DP": _IT, "DR": _IT, "DS": _IT,
    "DY": (S.EXCEPTION, U.CARRIER_DELAY), "EA": _IT, "ED": _IT, "EO": _IT,
    "EP": (S.INFO_RECEIVED, ""), "FD": _IT, "HL": (S.AVAILABLE_FOR_PICKUP, ""),
    "HP": (S.AVAILABLE_FOR_PICKUP, ""), "IT": _IT, "IX": _IT, "LO": _IT,
    "OC": (S.INFO_RECEIVED, ""), "OD": (S.OUT_FOR_DELIVERY, ""), "OF": _IT, "OW": _IT,
    "OX": _IT, "PD": (S.EXCEPTION, U.CARRIER_DELAY), "PF": _IT, "PL": _IT, "PM": _IT,
    "PU": _IT, "PX": _IT, "RR": _IT, "RM": _IT, "RC": _IT,
    "RS": (S.EXCEPTION, U.RETURNING_TO_SENDER), "RP": _IT, "LP": _IT, "RG": _IT,
    "RD": _IT, "SE": (S.EXCEPTION, ""), "SF": _IT, "SP": _IT, "TR": _IT,
    "CC": _IT, "CD": (S.EXCEPTION, U.CUSTOMS_HOLD), "CP": _IT,
}  # fmt: skip

# FedEx codes that mean "no such tracking number" rather than a failed call.
NOT_FOUND_CODES = {
    "6035", "9040", "9045", "TRACKING.TRACKINGNUMBER.NOTFOUND",
    "TRACKING.TRACKINGNUMBER.INVALID",
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    if looks_like_xml(raw):
        return _parse_soap(raw)
    return _parse_json(raw)


# --- Track API (JSON) ------------------------------------------------------


def _parse_json(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if doc.get("errors"):
        first = doc["errors"][0]
        code = first.get("code", "")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, first.get("message", ""), code)
    complete = (doc.get("output") or {}).get("completeTrackResults") or []
    results = complete[0].get("trackResults") if complete else []
    if not results:
        return not_found(CARRIER, "no track results")
    result = results[0]
    number = (result.get("trackingNumberInfo") or {}).get("trackingNumber") or complete[0].get(
        "trackingNumber", ""
    )
    if result.get("error"):
        err = result["error"]
        code = err.get("code", "")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, err.get("message", ""), code, number)
    events = []
    for scan in result.get("scanEvents") or []:
        place = scan.get("scanLocation") or {}
        loc = Location(
            city=place.get("city") or "",
            region=place.get("stateOrProvinceCode") or "",
            country=place.get("countryCode") or "",
            postal_code=place.get("postalCode") or "",
        )
        when = timestamps.localize(
            timestamps.parse_iso(scan.get("date")), timestamps.zone_for(loc.country, loc.region)
        )
        events.append(
            make_event(
                CODES,
                scan.get("eventType") or scan.get("derivedStatusCode") or "",
                when,
                scan.get("eventDescription") or "",
                loc,
                raw=scan,
            )
        )
    latest = result.get("latestStatusDetail") or {}
    overall = CODES.get(latest.get("code") or latest.get("derivedCode") or "")
    estimated = None
    for item in result.get("dateAndTimes") or []:
        if item.get("type") == "ESTIMATED_DELIVERY":
            estimated = timestamps.parse_date(item.get("dateTime"))
    if estimated is None:
        window = (result.get("estimatedDeliveryTimeWindow") or {}).get("window") or {}
        estimated = timestamps.parse_date(window.get("ends"))
    return finish(CARRIER, number, events, overall=overall, estimated_delivery=estimated)


# --- Web Services (SOAP/XML) -----------------------------------------------


_FAILED = ("ERROR", "FAILURE")


@lru_cache(maxsize=16)
def _tags(p: str) -> dict[str, str]:
    # Replies come with or without a namespace prefix on every element
    # ('<v14:Events>'); the tags we search for are built once per prefix.
    names = (
        "TrackReply HighestSeverity TrackDetails Notification Severity TrackingNumber "
        "StatusDetail Code Address Timestamp EventType EventDescription City "
        "StateOrProvinceCode CountryCode PostalCode EstimatedDeliveryTimestamp Type "
        "DateOrTimestamp PackageCount"
    )
    tags = {name: f"<{p}{name}>" for name in names.split()}
    for name in ("TrackDetails", "Notification", "StatusDetail", "Address"):
        tags[f"/{name}"] = f"</{p}{name}>"
    return tags


def _scan_soap(raw: str | bytes) -> TrackingResult | None:
    """A successful reply read by string search (see xmlscan); None when the
    full parser must read it, which includes every error reply."""
    doc = xmlscan.document(raw)
    p = xmlscan.prefix_of(doc, "TrackReply") if doc else None
    if p is None:
        return None
    t, value = _tags(p), xmlscan.value
    reply = doc[doc.find(f"<{p}TrackReply") :]
    if value(reply, t["HighestSeverity"]) in _FAILED:
        return None
    detail = xmlscan.section(reply, t["TrackDetails"], t["/TrackDetails"])
    if detail is None:
        return None
    note = xmlscan.section(detail, t["Notification"], t["/Notification"])
    if note is not None and value(note, t["Severity"]) in _FAILED:
        return None
    scans = xmlscan.records(detail, "Events", p)
    dates = xmlscan.records(detail, "DatesOrTimes", p)
    if scans is None or dates is None:
        return None
    events = []
    for scan in scans:
        before, _, after = scan.partition(t["Address"])
        address, _, after = after.partition(t["/Address"])
        own = before + after  # the scan's own fields, without the address's
        loc = Location(
            city=value(address, t["City"]),
            region=value(address, t["StateOrProvinceCode"]),
            country=value(address, t["CountryCode"]),
            postal_code=value(address, t["PostalCode"]),
        )
        when = timestamps.localize(
            timestamps.parse_iso(value(own, t["Timestamp"])),
            timestamps.zone_for(loc.country, loc.region),
        )
        events.append(
            make_event(
                CODES,
                value(own, t["EventType"]),
                when,
                value(own, t["EventDescription"]),
                loc,
                raw=xmlscan.leaves(own),
            )
        )
    status_detail = xmlscan.section(detail, t["StatusDetail"], t["/StatusDetail"]) or ""
    overall = CODES.get(value(status_detail, t["Code"]))
    estimated = timestamps.parse_date(value(detail, t["EstimatedDeliveryTimestamp"]))
    if estimated is None:
        for item in dates:
            if value(item, t["Type"]) == "ESTIMATED_DELIVERY":
                estimated = timestamps.parse_date(value(item, t["DateOrTimestamp"]))
    pieces = int(value(detail, t["PackageCount"]) or 1) or 1
    number = value(detail, t["TrackingNumber"])
    return finish(
        CARRIER, number, events, overall=overall, estimated_delivery=estimated, pieces=pieces
    )


def _parse_soap(raw: str | bytes) -> TrackingResult:
    scanned = _scan_soap(raw)
    if scanned is not None:
        return scanned
    root = load_xml(raw)
    reply = root if root.tag == "TrackReply" else root.find(".//TrackReply")
    if reply is None:
        fault = root.find(".//Fault")
        return error(CARRIER, text(fault, "faultstring") or "unexpected FedEx reply")
    if text(reply, "HighestSeverity") in ("ERROR", "FAILURE"):
        note = reply.find("Notifications")
        return error(CARRIER, text(note, "Message"), text(note, "Code"))
    detail = reply.find("CompletedTrackDetails/TrackDetails")
    if detail is None:
        return not_found(CARRIER, "no track details")
    number = text(detail, "TrackingNumber")
    note = detail.find("Notification")
    if note is not None and text(note, "Severity") in ("ERROR", "FAILURE"):
        code = text(note, "Code")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, text(note, "Message"), code, number)
    events = []
    for ev in detail.iterfind("Events"):
        address = ev.find("Address")
        loc = Location(
            city=text(address, "City"),
            region=text(address, "StateOrProvinceCode"),
            country=text(address, "CountryCode"),
            postal_code=text(address, "PostalCode"),
        )
        when = timestamps.localize(
            timestamps.parse_iso(text(ev, "Timestamp")),
            timestamps.zone_for(loc.country, loc.region),
        )
        events.append(
            make_event(
                CODES, text(ev, "EventType"), when, text(ev, "EventDescription"), loc, raw=_flat(ev)
            )
        )
    overall = CODES.get(text(detail, "StatusDetail/Code"))
    estimated = timestamps.parse_date(text(detail, "EstimatedDeliveryTimestamp"))
    if estimated is None:
        for item in detail.iterfind("DatesOrTimes"):
            if text(item, "Type") == "ESTIMATED_DELIVERY":
                estimated = timestamps.parse_date(text(item, "DateOrTimestamp"))
    pieces = int(text(detail, "PackageCount") or 1) or 1
    return finish(
        CARRIER, number, events, overall=overall, estimated_delivery=estimated, pieces=pieces
    )


def _flat(el: Any) -> dict[str, str]:
    return {child.tag: (child.text or "").strip() for child in el if len(child) == 0}
