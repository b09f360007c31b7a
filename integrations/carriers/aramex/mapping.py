"""Aramex Shipment Tracking (SOAP ``ShipmentTrackingResponse``) -> our schema.

Tracking results carry Aramex update codes (SH005 delivered, SH003 out for
delivery, ...); unknown numbers come back in ``NonExistingWaybills``."""

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
    text,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "aramex"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "SH001": (S.INFO_RECEIVED, ""), "SH014": (S.INFO_RECEIVED, ""), "SH012": _IT,
    "SH047": _IT, "SH022": _IT, "SH073": _IT, "SH160": _IT, "SH203": _IT,
    "SH003": (S.OUT_FOR_DELIVERY, ""), "SH005": (S.DELIVERED, ""), "SH006": (S.DELIVERED, ""),
    "SH007": (S.DELIVERED, ""), "SH004": (S.FAILED_ATTEMPT, ""),
    "SH033": (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE), "SH043": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "SH069": (S.EXCEPTION, U.RETURNED_TO_SENDER), "SH008": (S.EXCEPTION, U.CUSTOMS_HOLD),
    "SH076": (S.EXCEPTION, U.REFUSED), "SH252": (S.AVAILABLE_FOR_PICKUP, ""),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    reply = (
        root if root.tag == "ShipmentTrackingResponse" else root.find(".//ShipmentTrackingResponse")
    )
    if reply is None:
        return error(CARRIER, "unexpected Aramex reply")
    if text(reply, "HasErrors") == "true":
        note = reply.find("Notifications/Notification")
        return error(CARRIER, text(note, "Message"), text(note, "Code"))
    missing = [text(el) for el in reply.iterfind("NonExistingWaybills/string")]
    results = reply.findall(".//TrackingResult")
    if not results:
        return not_found(CARRIER, "waybill does not exist", number=missing[0] if missing else "")
    events = []
    for res in results:
        loc_text = text(res, "UpdateLocation")
        city, _, country = loc_text.rpartition(",")
        loc = Location(city=(city or loc_text).strip(), country=country_from_name(country))
        when = timestamps.localize(
            timestamps.parse_iso(text(res, "UpdateDateTime")),
            timestamps.zone_for(loc.country, default="Asia/Dubai"),
        )
        events.append(
            make_event(
                CODES,
                text(res, "UpdateCode"),
                when,
                text(res, "UpdateDescription"),
                loc,
                raw={c.tag: (c.text or "") for c in res},
            )
        )
    return finish(CARRIER, text(results[0], "WaybillNumber"), events)
