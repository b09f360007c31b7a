"""Hermes Germany / Evri shipment info (JSON, ``shipmentinfo[]``) -> our schema.

Hermes status codes are four digits whose first two name the stage
(00 notified, 10-25 in the network, 30 out for delivery, 35 delivered, ...);
a full code we know wins over its stage."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    country2,
    error,
    finish,
    load_json,
    lookup,
    not_found,
)
from integrations.carriers.schema import Event, Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "hermes"

_IT = (S.IN_TRANSIT, "")
STAGES: CodeTable = {
    "00": (S.INFO_RECEIVED, ""), "10": _IT, "15": _IT, "20": _IT, "25": _IT,
    "30": (S.OUT_FOR_DELIVERY, ""), "35": (S.DELIVERED, ""),
    "36": (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR), "37": (S.DELIVERED, U.DELIVERED_SAFE_PLACE),
    "38": (S.AVAILABLE_FOR_PICKUP, ""), "39": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "40": (S.FAILED_ATTEMPT, ""), "45": (S.EXCEPTION, ""),
    "50": (S.EXCEPTION, U.RETURNING_TO_SENDER), "55": (S.EXCEPTION, U.RETURNED_TO_SENDER),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    infos = doc.get("shipmentinfo")
    if not infos:
        return error(CARRIER, doc.get("message") or "unexpected Hermes reply", doc.get("code", ""))
    info = infos[0]
    number = info.get("shipmentID") or ""
    result = info.get("result") or {}
    if result.get("code") and not info.get("status"):
        code = result["code"]
        make = not_found if code.lower() == "e001" else error
        return make(CARRIER, result.get("message", ""), code, number)
    events = []
    for ev in info.get("status") or []:
        code = ev.get("code") or ""
        unit = ev.get("scanningUnit") or {}
        loc = Location(city=unit.get("city") or "", country=country2(unit.get("countryCode")))
        when = timestamps.localize(
            timestamps.parse_iso(ev.get("timestamp")),
            timestamps.zone_for(loc.country, default="Europe/Berlin"),
        )
        status, substatus, mapped = lookup(STAGES, code[:2])
        events.append(
            Event(when, status, code, ev.get("description") or "", substatus, loc, mapped, ev)
        )
    estimated = timestamps.parse_date((info.get("deliveryForecast") or {}).get("date"))
    return finish(CARRIER, number, events, estimated_delivery=estimated)
