"""DPD France (Cargonet ``GetShipmentTrace``, SOAP) -> our schema, by ``StatusNumber``."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import CodeTable, error, finish, load_xml, make_event, text
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "dpd_france"
PARIS = timestamps.zone("Europe/Paris")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "1": (S.INFO_RECEIVED, ""), "10": _IT, "20": _IT, "30": _IT, "35": _IT,
    "40": (S.OUT_FOR_DELIVERY, ""), "45": (S.FAILED_ATTEMPT, ""),
    "47": (S.AVAILABLE_FOR_PICKUP, ""), "50": (S.DELIVERED, ""),
    "60": (S.EXCEPTION, U.RETURNING_TO_SENDER), "70": (S.EXCEPTION, U.RETURNED_TO_SENDER),
}  # fmt: skip


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    if root.tag == "Error":
        return error(CARRIER, text(root, "ErrorMessage"), text(root, "ErrorId"))
    result = root.find(".//GetShipmentTraceResult")
    if result is None:
        return error(CARRIER, text(root, ".//faultstring") or "unexpected DPD France reply")
    events = []
    for trace in result.iterfind("Traces/clsTrace"):
        when = timestamps.parse_local(f"{text(trace, 'ScanDate')}T{text(trace, 'ScanTime')}", PARIS)
        loc = Location(city=text(trace, "CenterName"), country="FR")
        events.append(
            make_event(
                CODES,
                text(trace, "StatusNumber"),
                when,
                text(trace, "StatusDescription"),
                loc,
                raw={c.tag: (c.text or "") for c in trace},
            )
        )
    return finish(CARRIER, text(result, "ShipmentNumber"), events)
