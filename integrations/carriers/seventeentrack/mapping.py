"""17TRACK -> our schema.

Two shapes: the Tracking API v2 (``data.accepted[].track_info``, with main
and sub status names) and the user-account package list (``Json[]`` with a
numeric ``FPackageState``). Both are 17TRACK's own normalized codes."""

from __future__ import annotations

import json

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    lookup,
    not_found,
    split_location,
)
from integrations.carriers.schema import Event, Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "17track"

MAIN: CodeTable = {
    "InfoReceived": (S.INFO_RECEIVED, ""), "InTransit": (S.IN_TRANSIT, ""),
    "Expired": (S.EXPIRED, ""), "AvailableForPickup": (S.AVAILABLE_FOR_PICKUP, ""),
    "OutForDelivery": (S.OUT_FOR_DELIVERY, ""), "DeliveryFailure": (S.FAILED_ATTEMPT, ""),
    "Delivered": (S.DELIVERED, ""), "Exception": (S.EXCEPTION, ""),
}  # fmt: skip
SUB = {
    "InTransit_CustomsRequiringInformation": U.CUSTOMS_DOCUMENTS,
    "DeliveryFailure_NoBody": U.RECIPIENT_UNAVAILABLE, "DeliveryFailure_Rejected": U.REFUSED,
    "DeliveryFailure_InvalidAddress": U.ADDRESS_PROBLEM, "Exception_Returning": U.RETURNING_TO_SENDER,
    "Exception_Returned": U.RETURNED_TO_SENDER, "Exception_Security": U.CUSTOMS_HOLD,
    "Exception_Damage": U.DAMAGED, "Exception_Rejected": U.REFUSED, "Exception_Delayed": U.CARRIER_DELAY,
    "Exception_Lost": U.LOST, "Exception_Destroyed": U.DESTROYED, "Exception_Cancel": U.CANCELLED,
}  # fmt: skip
# The account API's package states.
PACKAGE_STATES: CodeTable = {
    "10": (S.IN_TRANSIT, ""), "20": (S.EXPIRED, ""), "30": (S.AVAILABLE_FOR_PICKUP, ""),
    "35": (S.FAILED_ATTEMPT, ""), "40": (S.DELIVERED, ""), "50": (S.EXCEPTION, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if "Json" in doc:
        return _parse_packages(doc)
    if doc.get("code", 0) != 0:
        return error(
            CARRIER, str(doc.get("data", {}).get("errors") or "17TRACK error"), str(doc.get("code"))
        )
    data = doc.get("data") or {}
    if data.get("rejected") and not data.get("accepted"):
        rejected = data["rejected"][0]
        err = rejected.get("error") or {}
        return not_found(
            CARRIER, err.get("message", ""), str(err.get("code", "")), rejected.get("number", "")
        )
    accepted = data.get("accepted") or []
    if not accepted:
        return error(CARRIER, "unexpected 17TRACK reply")
    item = accepted[0]
    info = item.get("track_info") or {}
    latest = info.get("latest_status") or {}
    if latest.get("status") == "NotFound":
        return not_found(
            CARRIER, latest.get("sub_status") or "not found", number=item.get("number", "")
        )
    events = []
    for provider in (info.get("tracking") or {}).get("providers") or []:
        for ev in provider.get("events") or []:
            stage, sub = ev.get("stage") or "", ev.get("sub_status") or ""
            main = sub.partition("_")[0] or stage
            status, _, mapped = lookup(MAIN, main)
            address = ev.get("address") or {}
            loc = Location(
                city=address.get("city") or "",
                region=address.get("state") or "",
                country=address.get("country") or "",
                postal_code=address.get("postal_code") or "",
            )
            if not loc:
                loc = split_location(ev.get("location") or "")
            when = timestamps.parse_iso(ev.get("time_iso")) or timestamps.localize(
                timestamps.parse_iso(ev.get("time_utc")), timestamps.zone("UTC")
            )
            events.append(
                Event(
                    when,
                    status,
                    sub or stage,
                    ev.get("description") or "",
                    SUB.get(sub, ""),
                    loc,
                    mapped,
                    ev,
                )
            )
    overall = MAIN.get(latest.get("status") or "")
    if overall:
        overall = (overall[0], SUB.get(latest.get("sub_status") or "", ""))
    return finish(CARRIER, item.get("number") or "", events, overall=overall)


def _parse_packages(doc: dict) -> TrackingResult:
    packages = doc.get("Json") or []
    if not packages:
        return not_found(CARRIER, "no packages")
    package = packages[0]
    number = package.get("FTrackNo") or ""
    state = str(package.get("FPackageState", ""))
    if state == "0":
        return not_found(CARRIER, "17TRACK has no information yet", state, number)
    events = []
    last = package.get("FLastEvent") or ""
    if last:
        ev = json.loads(last)
        when = timestamps.localize(timestamps.parse_iso(ev.get("a")), timestamps.zone("UTC"))
        loc = Location(city=ev.get("c") or "")
        # The account API gives the latest event without a code: the package state is the code.
        status, substatus, mapped = lookup(PACKAGE_STATES, state or "10")
        events.append(
            Event(
                when, status, state, ev.get("z") or "", substatus, loc, mapped and bool(state), ev
            )
        )
    overall = PACKAGE_STATES.get(state)
    return finish(
        CARRIER, number, events, overall=overall or (S.IN_TRANSIT if events else S.PENDING, "")
    )
