"""DPD ParcelLifeCycle service (SOAP, ``getTrackingDataResponse``) -> our schema.

Each ``statusInfo`` names a DPD life-cycle status code (PickedUp,
BetweenDepots, Depot, Courier, DeliveryFailure, ParcelShop, Delivered, ...);
only the ones DPD marks ``statusHasBeenReached`` are real scans. Dates are
US-style local times at a depot whose country is given as 'City (BE)'."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_xml,
    make_event,
    not_found,
    split_location,
    text,
)
from integrations.carriers.schema import Substatus as U
from integrations.carriers.schema import TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "dpd"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "ACCEPTED": (S.INFO_RECEIVED, ""), "SHIPMENT": (S.INFO_RECEIVED, ""),
    "PickedUp": _IT, "AT_SENDING_DEPOT": _IT, "BetweenDepots": _IT, "ON_THE_ROAD": _IT,
    "Depot": _IT, "AT_DELIVERY_DEPOT": _IT, "Courier": (S.OUT_FOR_DELIVERY, ""),
    "DeliveryFailure": (S.FAILED_ATTEMPT, ""), "ReturningFromDelivery": (S.FAILED_ATTEMPT, ""),
    "ParcelShop": (S.AVAILABLE_FOR_PICKUP, ""), "Delivered": (S.DELIVERED, ""),
    "DELIVERED": (S.DELIVERED, ""), "PickupByConsignee": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "ReturnToSender": (S.EXCEPTION, U.RETURNING_TO_SENDER),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    fault = root.find(".//Fault")
    if fault is not None:
        code = text(fault, ".//errorCode") or text(fault, "faultcode")
        message = text(fault, ".//errorMessage") or text(fault, "faultstring")
        make = not_found if "NOT_FOUND" in code.upper() else error
        return make(CARRIER, message, code)
    result = root.find(".//trackingresult")
    if result is None:
        return not_found(CARRIER, "no tracking result")
    events = []
    for info in result.iterfind("statusInfo"):
        if text(info, "statusHasBeenReached") != "true":
            continue
        loc = split_location(text(info, "location/content"))
        when = timestamps.parse_local(
            text(info, "date/content"),
            timestamps.zone_for(loc.country, default="Europe/Berlin"),
            "%m/%d/%Y %I:%M:%S %p",
        )
        description = text(info, "description/content/content") or text(info, "label/content")
        events.append(
            make_event(
                CODES,
                text(info, "status"),
                when,
                description,
                loc,
                raw={"status": text(info, "status")},
            )
        )
    number = text(result, "shipmentInfo/parcelLabelNumber") or text(result, ".//parcelLabelNumber")
    return finish(CARRIER, number, events)
