"""PostNL Shipping Status API v2 (JSON ``CurrentStatus`` / ``CompleteStatus``) -> our schema.

PostNL reports a shipment's status as a numeric ``StatusCode`` (1 pre-alerted
... 11 delivered, 12 at a pick-up point, 99 not applicable) and, with
``detail=true``, every scan as an ``Event`` with a letter-and-digits code
(A01, J05, I10, ...). PostNL's reference assigns each event code the status
it puts the shipment in; we keep that assignment (``EVENT_STATUS``) and refine
it where the event says more than its status does (delivered to a
neighbour, refused, damaged). Events whose status is "99, not applicable"
are notes that leave the shipment as it was, so they take its status.

Times are Dutch wall-clock times (``dd-mm-yyyy HH:MM:SS``, Europe/Amsterdam,
with daylight saving time). A multi-collo shipment lists each parcel as its
own ``Shipment`` under one ``MainBarcode``."""

from __future__ import annotations

from datetime import datetime

from integrations.carriers import timestamps
from integrations.carriers.payloads import CodeTable, error, finish, load_json, not_found
from integrations.carriers.schema import Event, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "postnl"
AMSTERDAM = timestamps.zone("Europe/Amsterdam")
TIME_FORMAT = "%d-%m-%Y %H:%M:%S"

_IT = (S.IN_TRANSIT, "")
_EXC = (S.EXCEPTION, "")
_RETURNING = (S.EXCEPTION, U.RETURNING_TO_SENDER)

# StatusCode -> our status, the whole published list except 99 (not a status).
STATUSES: CodeTable = {
    "1": (S.INFO_RECEIVED, ""),  # pre-alerted
    "2": _IT,  # accepted
    "3": _IT,  # collected from the sender
    "4": _EXC,  # not collected from the sender
    "5": _IT,  # sorted
    "6": _EXC,  # not sorted
    "7": (S.OUT_FOR_DELIVERY, ""),  # in the distribution process
    "8": (S.FAILED_ATTEMPT, ""),  # not delivered
    "9": _IT,  # at customs
    "11": (S.DELIVERED, ""),
    "12": (S.AVAILABLE_FOR_PICKUP, ""),
    "13": (S.INFO_RECEIVED, ""),  # pre-alerted, not yet accepted
    "14": _EXC,  # pre-alerted, definitively not accepted
    "15": _EXC,  # missing at collection
    "16": _EXC,  # missing in sorting
    "17": _EXC,  # missing in distribution
    "18": (S.EXCEPTION, U.LOST),  # definitively missing
    "19": _EXC,  # rejected
    "20": _IT,  # in customs clearance
    "21": _IT,  # in storage
    "22": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),  # picked up from the post office
    "23": _IT,  # pick-up order collected
    "27": _RETURNING,  # return, undeliverable
    "28": _RETURNING,  # return, wrong delivery code
    "31": _IT,  # ready for transport to the destination country
}

# Event code -> the StatusCode PostNL's event reference assigns it.
_EVENTS_BY_STATUS = {
    "1": "A01 A10 A71 F01 J93 M03 X80 X81",
    "2": "B01 X40",
    "3": "B04 Z80",
    "4": "D02 D03 D04 D05 D06 D07 D09 D40 D41 H31 X42 X43 Y80 Y81",
    "5": "A08 A09 A11 A12 A13 A27 A28 A29 A30 A31 A32 A34 A35 A42 A43 A99 J01 J06 J07 J09 "
    "J10 J14 J16 J17 J22 J24 J26 J27 J28 J33 J36 J61 J90 Q12 Q13 R01 R06 X01 X02 X07 X08 "
    "X11 X14 X17 X20 X21 X22 X50 X51 X68 Y23 Y24 Y33 Y35 Y60 Y61 Y62",
    "6": "D08 H10 K01 K02 K03 K30 K92 V01 V06 Y07",
    "7": "H32 H35 J05 J08 J29 J39 J41 J42 J45 J47 J48 J55 J94 J95 K14 K15 K70 Q15 S05 T02 "
    "X04 X06 X19 X55 Y05",
    "8": "H01 H02 H03 H04 H05 H07 H08 H09 H12 H20 H22 H24 H34 H36 H38 H51 H52 J92 K16 K41 "
    "K43 Y01 Y02 Y03 Y04 Y08 Y09 Y10 Y11 Y12 Y13 Y14 Y15 Y16 Y17 Y18 Y19 Y20 Y21 Y22 Y30 "
    "Y31 Y32 Y36 Y38 Y39 Y40 Y41 Y42 Y43 Y44 Y50 Y71",
    "9": "J59 X30 X60 X61 X62 X63 X64 X65 X66 Y25 Y29",
    "11": "I01 I03 I05 I06 I07 I09 I10 I11 I12 I22 I23 J63 J91 K91 X24 Y26 Z01 Z02 Z03 Z04 "
    "Z05 Z06 Z08 Z09",
    # J23 is listed under both 11 and 12; "can be collected at the locker" is 12.
    "12": "I08 J02 J12 J23 J52 X05",
    "13": "A20 A21 A22 Q02 X03",
    "14": "M01",
    "15": "G03",
    "16": "G01 G02 G05",
    "17": "H23 K90",
    "19": "F03 F04 F05 F06 F07 F08 F10",
    "20": "A76 X10 X67",
    "21": "V02 V03 V04 V11 V12 V13 V21 V22 V23 V31 V50",
    "22": "I02",
    "23": "C01",
    "27": "H16 H25",
    "28": "Y37",
    "31": "A72 A74 A75 X15",
}
EVENT_STATUS = {
    code: status for status, codes in _EVENTS_BY_STATUS.items() for code in codes.split()
}
# Status 99 ("not applicable"): notes that do not move the shipment.
_NOTES = (
    "A41 A46 A73 A94 B06 C02 H15 H17 H18 H30 J56 J80 K25 K71 P20 P21 P22 P23 P24 Q14 Q16 "
    "Q17 Q18 Q19 X16 X52 Y45 Y46 Y47 Y48 Y64 Y65 Y66"
)
NOTES = frozenset(_NOTES.split())


def _codes(codes: str, hit: tuple[str, str]) -> CodeTable:
    return dict.fromkeys(codes.split(), hit)


# Where an event says more than the status it belongs to.
REFINED: CodeTable = {
    **_codes("A08 A09 A11 A12 A13 A29 A30 A31 A32 A34 A35 A94 A99 J47 K03", (S.IN_TRANSIT, U.REROUTED)),
    **_codes("K02", (S.IN_TRANSIT, U.CUSTOMER_MOVED)),
    **_codes("H32 J09 J14 J24 J36 J92 K01 T02 V01 V02 V03 V11 V21 Y07 Y08 Y35 Y60 Y61 Y62 G01 G02 G03 G05", (S.IN_TRANSIT, U.CARRIER_DELAY)),
    **_codes("J07 J17 J26 J33 J39 J95 V04 V06 V31 K25 Y33 Y66", (S.IN_TRANSIT, U.CARRIER_DELAY)),
    **_codes("Y65", (S.EXCEPTION, U.WEATHER_DELAY)),
    **_codes("J45 Q15 S05 X04 X19 J59", _IT),
    **_codes("R06 H23 H30 H31 D41", (S.EXCEPTION, U.CANCELLED)),
    **_codes("K92 Y29 Y45", (S.EXCEPTION, U.DESTROYED)),
    **_codes("H35 H04 Y04 Y11 Y14 Y18", (S.EXCEPTION, U.DAMAGED)),
    **_codes("H01 H38 Y03 Y13 Y44 Y50 A22", (S.EXCEPTION, U.REFUSED)),
    **_codes("H02 H12 H36 Y01 Y09 Y12 Y16 Y17 Y30 Y31 Y32 F06 F07 D02 D04", (S.EXCEPTION, U.ADDRESS_PROBLEM)),
    **_codes("H03 H05 H07 H08 H09 H10 H15 H16 H17 H18 H20 H22 H24 H25 H51 H52 K43 X20 X21 X22 Y19 Y20 Y21 Y37 Y40 Y47 A46", _RETURNING),
    **_codes("I07 J63 X24", (S.EXCEPTION, U.RETURNED_TO_SENDER)),
    **_codes("Y22", (S.EXCEPTION, U.CUSTOMER_MOVED)),
    **_codes("Y71", (S.EXCEPTION, U.LOST)),
    **_codes("J08 J29 J94 K14 K70 K71 Y02 Y10 Y42", (S.FAILED_ATTEMPT, U.RECIPIENT_UNAVAILABLE)),
    **_codes("Y43", (S.FAILED_ATTEMPT, U.BUSINESS_CLOSED)),
    **_codes("X30 X63 X64 X66 Y25 Y46 Y64", (S.EXCEPTION, U.CUSTOMS_HOLD)),
    **_codes("X10", (S.EXCEPTION, U.CUSTOMS_DOCUMENTS)),
    **_codes("X67 A20", (S.EXCEPTION, U.DUTIES_DUE)),
    **_codes("A21 X03 A73 B06 C02 Q16 Q17 Q18 Q19 X16 X52", _IT),
    **_codes("J56", (S.INFO_RECEIVED, "")),
    **_codes("Q14 Y48", _EXC),
    **_codes("K91", (S.EXCEPTION, U.HELD_AT_DEPOT)),
    **_codes("I09", (S.DELIVERED, U.DELIVERED_TO_LOCKER)),
    **_codes("I10 Z05", (S.DELIVERED, U.DELIVERED_TO_NEIGHBOUR)),
    **_codes("I12 Z09", (S.DELIVERED, U.DELIVERED_SAFE_PLACE)),
    **_codes("I22 Z06", (S.DELIVERED, U.COLLECTED_BY_RECIPIENT)),
}  # fmt: skip


def _when(text: str | None) -> datetime | None:
    # CurrentStatus/CompleteStatus print dd-mm-yyyy; updatedshipments prints ISO.
    value = timestamps.parse_local(text, AMSTERDAM, TIME_FORMAT)
    return value or timestamps.localize(timestamps.parse_iso(text), AMSTERDAM)


def _event(raw_event: dict, shipment_status: tuple[str, str] | None) -> Event:
    code = str(raw_event.get("Code") or "")
    hit = REFINED.get(code)
    if hit is None and code in EVENT_STATUS:
        hit = STATUSES[EVENT_STATUS[code]]
    if hit is None and code in NOTES:
        hit = shipment_status
    description = " ".join((raw_event.get("Description") or "").split())
    if hit is None:
        return Event(_when(raw_event.get("TimeStamp")), S.IN_TRANSIT, code, description, "", is_mapped=False, raw=raw_event)  # fmt: skip
    return Event(_when(raw_event.get("TimeStamp")), hit[0], code, description, hit[1], raw=raw_event)  # fmt: skip


def _status_event(status: dict) -> Event:
    """A shipment's current Status as an event, for replies without event detail."""
    code = str(status.get("StatusCode") or "")
    hit = STATUSES.get(code)
    description = status.get("StatusDescription") or ""
    when = _when(status.get("TimeStamp") or status.get("Timestamp"))
    if hit is None:
        return Event(when, S.IN_TRANSIT, code, description, "", is_mapped=False, raw=status)
    return Event(when, hit[0], code, description, hit[1], raw=status)


def _shipments(doc: dict) -> list[dict]:
    block = doc.get("CompleteStatus") or doc.get("CurrentStatus") or {}
    shipments = block.get("Shipment") or []
    return [shipments] if isinstance(shipments, dict) else list(shipments)


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    fault = doc.get("fault") or (doc if "faultstring" in doc else None)
    if fault:
        code = (fault.get("detail") or {}).get("errorcode") or ""
        return error(CARRIER, fault.get("faultstring") or "PostNL error", code)
    shipments = _shipments(doc)
    if not shipments:
        warning = (doc.get("Warnings") or [{}])[0] or {}
        return not_found(
            CARRIER, warning.get("Message") or "no shipment found", str(warning.get("Code") or "")
        )
    events: list[Event] = []
    for shipment in shipments:
        status = shipment.get("Status") or {}
        current = STATUSES.get(str(status.get("StatusCode") or ""))
        if shipment.get("Event"):
            events.extend(_event(e, current) for e in shipment["Event"])
        elif status:
            events.append(_status_event(status))
    first = shipments[0]
    expectation = first.get("Expectation") or {}
    estimated = timestamps.parse_date(expectation.get("ETAFrom") or first.get("DeliveryDate"))
    number = first.get("MainBarcode") or first.get("Barcode") or ""
    pieces = max(len(shipments), int(first.get("ShipmentAmount") or 1))
    return finish(CARRIER, number, events, estimated_delivery=estimated, pieces=pieces)
