"""UPS Track API (JSON, v1) -> our schema.

Each activity carries ``status.statusCode``, the three-digit code of UPS's
"Status/Description Codes" table, and ``status.type``, the one-letter package
activity type. The three-digit code is the precise one; the letter is the
fallback when a code is new to us."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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

CARRIER = "ups"

_IT, _OFD, _FA, _EX = S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.EXCEPTION
_PICKUP, _INFO, _DEL = S.AVAILABLE_FOR_PICKUP, S.INFO_RECEIVED, S.DELIVERED

# UPS Status/Description Codes (UPS developer documentation), keyed as the
# API sends them: zero-padded to three digits.
_STATUS_CODES: dict[int, tuple[str, str]] = {
    3: (_INFO, ""), 5: (_IT, ""), 6: (_OFD, ""), 7: (_EX, U.CANCELLED), 10: (_IT, ""),
    11: (_DEL, ""), 12: (_IT, ""), 13: (_EX, ""), 14: (_IT, ""), 16: (_IT, U.HELD_AT_DEPOT),
    17: (_PICKUP, ""), 18: (_IT, ""), 19: (_IT, U.HELD_AT_DEPOT), 20: (_IT, ""),
    21: (_OFD, ""), 22: (_FA, ""), 23: (_FA, ""), 24: (_FA, U.FINAL_ATTEMPT), 25: (_IT, ""),
    26: (_DEL, ""), 27: (_IT, ""), 28: (_IT, U.REROUTED), 29: (_EX, ""), 30: (_EX, ""),
    32: (_EX, U.WEATHER_DELAY), 33: (_EX, U.RETURNING_TO_SENDER),
    34: (_EX, U.RETURNED_TO_SENDER), 35: (_EX, U.RETURNING_TO_SENDER),
    36: (_EX, U.RETURNING_TO_SENDER), 37: (_OFD, ""), 38: (_IT, ""), 39: (_IT, ""),
    40: (_PICKUP, ""), 41: (_IT, ""), 42: (_IT, ""), 43: (_EX, U.CANCELLED), 44: (_IT, ""),
    45: (_IT, ""), 46: (_EX, U.CARRIER_DELAY), 47: (_IT, ""), 48: (_EX, U.CARRIER_DELAY),
    49: (_EX, ""), 50: (_EX, U.ADDRESS_PROBLEM), 51: (_EX, U.WEATHER_DELAY),
    52: (_EX, U.WEATHER_DELAY), 53: (_EX, U.WEATHER_DELAY), 54: (_IT, ""), 55: (_IT, ""),
    56: (_IT, ""), 57: (_IT, ""), 58: (_EX, U.CUSTOMS_DOCUMENTS), 59: (_EX, U.DAMAGED),
    60: (_FA, ""), 61: (_FA, ""), 62: (_FA, U.DUTIES_DUE), 63: (_IT, ""), 64: (_EX, U.REFUSED),
    65: (_INFO, ""), 66: (_FA, ""), 67: (_EX, U.RETURNED_TO_SENDER), 68: (_EX, U.LOST),
    69: (_EX, ""), 70: (_IT, ""), 71: (_IT, ""), 72: (_OFD, ""), 75: (_IT, ""), 76: (_EX, ""),
    77: (_INFO, ""), 78: (_OFD, ""), 79: (_INFO, ""), 80: (_INFO, ""),
    81: (_EX, U.RETURNED_TO_SENDER), 82: (_IT, ""), 83: (_EX, U.HELD_AT_DEPOT), 84: (_IT, ""),
    85: (_EX, U.DUTIES_DUE), 86: (_EX, U.CARRIER_DELAY), 87: (_IT, ""), 89: (_OFD, ""),
    90: (_EX, U.CARRIER_DELAY), 91: (_OFD, ""), 92: (_IT, ""), 93: (_EX, ""), 94: (_IT, ""),
    95: (_IT, ""), 96: (_IT, ""), 97: (_IT, ""), 98: (_IT, ""), 99: (_IT, ""),
    100: (_IT, ""), 101: (_IT, ""), 102: (_IT, ""), 103: (_IT, ""), 104: (_IT, U.HELD_AT_DEPOT),
    105: (_IT, ""), 106: (_IT, ""), 107: (_IT, ""), 108: (_IT, ""), 109: (_IT, ""),
    114: (_IT, ""), 115: (_IT, ""), 116: (_IT, ""), 118: (_EX, U.RETURNING_TO_SENDER),
    119: (_EX, U.RETURNING_TO_SENDER), 123: (_EX, U.CUSTOMS_HOLD),
    124: (_EX, U.CUSTOMS_DOCUMENTS), 125: (_EX, U.CUSTOMS_DOCUMENTS),
    126: (_EX, U.CUSTOMS_HOLD), 129: (_EX, ""), 130: (_EX, ""), 131: (_INFO, ""),
    132: (_EX, U.CARRIER_DELAY), 134: (_IT, ""), 135: (_INFO, ""), 136: (_IT, ""),
    137: (_IT, ""), 138: (_IT, ""), 139: (_EX, U.ADDRESS_PROBLEM),
    141: (_EX, U.CUSTOMS_DOCUMENTS), 143: (_DEL, ""), 144: (_PICKUP, ""), 145: (_FA, ""),
    146: (_OFD, ""), 147: (_EX, U.DESTROYED), 148: (_EX, ""), 149: (_EX, U.DESTROYED),
    153: (_IT, ""), 154: (_IT, ""), 155: (_DEL, ""), 157: (_INFO, ""), 158: (_IT, ""),
    159: (_IT, ""), 160: (_IT, ""), 161: (_PICKUP, ""), 162: (_OFD, ""), 163: (_EX, ""),
    164: (_IT, ""), 165: (_IT, ""), 166: (_INFO, ""), 167: (_IT, ""), 168: (_IT, ""),
    169: (_IT, ""),
}  # fmt: skip
STATUS_CODES: CodeTable = {f"{k:03d}": v for k, v in _STATUS_CODES.items()}

# Package activity types: the coarse fallback.
ACTIVITY_TYPES: CodeTable = {
    "D": (_DEL, ""), "I": (_IT, ""), "M": (_INFO, ""), "MV": (_EX, U.CANCELLED),
    "X": (_EX, ""), "P": (_IT, ""), "U": (_IT, ""), "DO": (_IT, ""), "DD": (_DEL, ""),
    "W": (_IT, ""), "NA": (S.PENDING, ""),
}  # fmt: skip

# Errors that mean "we do not know this number" rather than "call failed".
NOT_FOUND_CODES = {"TW0001", "TV1002", "151044", "151018"}


def _when(activity: dict[str, Any], loc: Location) -> datetime | None:
    day, time = activity.get("date") or "", activity.get("time") or ""
    # 'YYYYMMDD' + 'HHMMSS'; sliced by hand because strptime costs more than
    # the rest of the mapping.
    if not (len(day) == 8 and len(time) == 6 and day.isdigit() and time.isdigit()):
        return None
    try:
        naive = datetime(
            int(day[:4]), int(day[4:6]), int(day[6:]), int(time[:2]), int(time[2:4]), int(time[4:])
        )
    except ValueError:
        return None
    offset = timestamps.fixed_offset(activity.get("gmtOffset") or "")
    if offset is not None:
        return naive.replace(tzinfo=offset)
    return naive.replace(tzinfo=timestamps.zone_for(loc.country, loc.region, "America/New_York"))


def _event(activity: dict[str, Any]):
    status = activity.get("status") or {}
    address = (activity.get("location") or {}).get("address") or {}
    loc = Location(
        city=address.get("city") or "",
        region=address.get("stateProvince") or "",
        country=(address.get("countryCode") or address.get("country") or "")[:2],
        postal_code=address.get("postalCode") or "",
    )
    code = (status.get("statusCode") or "").zfill(3) if status.get("statusCode") else ""
    kind = status.get("type") or ""
    fallback = ACTIVITY_TYPES.get(kind)
    event = make_event(
        STATUS_CODES,
        code or kind,
        _when(activity, loc),
        status.get("description") or "",
        loc,
        raw=activity,
        fallback=fallback,
    )
    if not code and fallback is not None:
        # No three-digit code at all (older responses): the type letter is the code.
        event.is_mapped = True
    return event


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    errors = (doc.get("response") or {}).get("errors") or []
    if errors:
        first = errors[0]
        code = str(first.get("code", ""))
        if code in NOT_FOUND_CODES:
            return not_found(CARRIER, first.get("message", ""), code)
        return error(CARRIER, first.get("message", ""), code)
    shipments = (doc.get("trackResponse") or {}).get("shipment") or []
    if not shipments:
        return not_found(CARRIER, "no shipment in response")
    shipment = shipments[0]
    packages = shipment.get("package") or []
    if not packages:
        warning = (shipment.get("warnings") or [{}])[0]
        return not_found(CARRIER, warning.get("message", ""), warning.get("code", ""))

    events = []
    seen = set()
    estimated = None
    for package in packages:
        for activity in package.get("activity") or []:
            key = (
                activity.get("date"),
                activity.get("time"),
                (activity.get("status") or {}).get("statusCode"),
            )
            if key in seen:
                continue
            seen.add(key)
            events.append(_event(activity))
        for delivery_date in package.get("deliveryDate") or []:
            if delivery_date.get("type") in ("SDD", "RDD") and estimated is None:
                estimated = timestamps.parse_date(delivery_date.get("date"))
    number = packages[0].get("trackingNumber") or shipment.get("inquiryNumber") or ""
    if number == "string":  # documentation placeholder
        number = shipment.get("inquiryNumber") or ""
    return finish(CARRIER, number, events, estimated_delivery=estimated, pieces=len(packages))
