"""La Poste Suivi v2 (JSON; La Poste, Colissimo, Chronopost items) -> our schema.

Events carry La Poste's three-character event codes (DR1, PC1, ET1, MD2,
DI1, ...), documented in the Suivi API reference."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    make_event,
    not_found,
)
from integrations.carriers.schema import Substatus as U
from integrations.carriers.schema import TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "laposte"
PARIS = timestamps.zone("Europe/Paris")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "DR1": (S.INFO_RECEIVED, ""), "PC1": _IT, "PC2": _IT, "ET1": _IT, "ET2": _IT,
    "ET3": _IT, "ET4": _IT, "EP1": _IT, "DO1": (S.IN_TRANSIT, ""),
    "DO2": _IT, "DO3": (S.EXCEPTION, U.CUSTOMS_HOLD), "PB1": (S.EXCEPTION, ""),
    "PB2": (S.EXCEPTION, ""), "MD2": (S.OUT_FOR_DELIVERY, ""),
    "ND1": (S.FAILED_ATTEMPT, ""), "AG1": (S.AVAILABLE_FOR_PICKUP, ""),
    "RE1": (S.EXCEPTION, U.RETURNING_TO_SENDER), "DI1": (S.DELIVERED, ""),
    "DI2": (S.EXCEPTION, U.RETURNED_TO_SENDER), "DI3": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if isinstance(doc, list):
        if not doc:
            return not_found(CARRIER, "empty reply")
        doc = doc[0]
    code = int(doc.get("returnCode") or 0)
    number = (doc.get("shipment") or {}).get("idShip") or ""
    if code != 200:
        message = doc.get("returnMessage") or "La Poste error"
        # 400 "numéro pas valide" and 404 both mean we cannot track this number.
        make = not_found if code in (400, 404) else error
        return make(CARRIER, message, str(code), number if code != 400 else "")
    shipment = doc["shipment"]
    events = []
    for ev in shipment.get("event") or []:
        when = timestamps.localize(timestamps.parse_iso(ev.get("date")), PARIS)
        events.append(make_event(CODES, ev.get("code") or "", when, ev.get("label") or "", raw=ev))
    estimated = timestamps.parse_date(shipment.get("estimDate"))
    return finish(CARRIER, number, events, estimated_delivery=estimated)
