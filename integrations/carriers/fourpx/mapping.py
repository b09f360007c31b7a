"""4PX open platform ``tr.order.tracking.get`` (JSON ``data.trackingList[]``) -> our schema.

Each event carries 4PX's ``businessLinkCode`` (FPX_L_RPIF parcel
information received, FPX_C_SPLS picked up, FPX_S_OK delivered, ...). The
letter after ``FPX_`` is the stage; some codes come in documented reason
variants that share a prefix (FPX_D_FD* delivery failed, FPX_I_HC* held by
customs), which the prefix table covers. Anything else stays unmapped.

``occurDatetime`` is a wall-clock time: in the event's ``timeZone`` when 4PX
gives one, otherwise Beijing time (UTC+8), which is how 4PX reports."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_json,
    make_event,
    not_found,
    split_location,
)
from integrations.carriers.schema import Event, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "4px"
SHANGHAI = timestamps.zone("Asia/Shanghai")

_INFO = (S.INFO_RECEIVED, "")
_IT = (S.IN_TRANSIT, "")
_DONE = (S.DELIVERED, "")
_DESTROYED = (S.EXCEPTION, U.DESTROYED)
_FAIL = (S.EXCEPTION, "")

CODES: CodeTable = {
    # shipment data only, nothing handed over yet
    "FPX_L_RPIF": _INFO, "FPX_L_ATP": _INFO, "FPX_O_CRLB": _INFO, "FPX_O_IR": _INFO,
    "FPX_O_SIS": _INFO, "FPX_S_SFBR": _INFO,
    # 4PX facility and hand-over
    "FPX_C_SPLS": _IT, "FPX_C_AAF": _IT, "FPX_C_ADFF": _IT,
    # last mile
    "FPX_D_SD": (S.OUT_FOR_DELIVERY, ""),
    "FPX_D_ADWP": (S.AVAILABLE_FOR_PICKUP, ""), "FPX_D_AP": (S.AVAILABLE_FOR_PICKUP, ""),
    "FPX_D_SASPS": (S.AVAILABLE_FOR_PICKUP, ""),
    "FPX_S_OK": _DONE, "FPX_S_OKCC": _DONE, "FPX_S_OKGP": _DONE, "FPX_S_OKIDC": _DONE,
    "FPX_S_OKPO": _DONE, "FPX_S_OKSC": _DONE, "FPX_S_OKVP": _DONE,
    # disposal
    "FPX_C_DT": _DESTROYED, "FPX_C_DTCQ": _DESTROYED, "FPX_C_DTTM": _DESTROYED,
    "FPX_Y_ADPR": _DESTROYED, "FPX_Y_DS": _DESTROYED,
    # codes 4PX files under abnormal events without a finer meaning we can use
    "FPX_C_BTC": _FAIL, "FPX_D_DFCR": _FAIL, "FPX_D_PD": _FAIL, "FPX_D_POD": _FAIL,
    "FPX_D_RA": _FAIL, "FPX_D_RR": _FAIL, "FPX_D_SPRA": _FAIL, "FPX_D_SR": _FAIL,
    "FPX_D_VN": _FAIL, "FPX_I_CR": _FAIL, "FPX_I_DG": _FAIL, "FPX_M_PRTS": _FAIL,
    "FPX_M_SE": _FAIL, "FPX_O_PRIA": _FAIL, "FPX_O_PRRF": _FAIL, "FPX_O_PRRR": _FAIL,
    "FPX_O_PRUC": _FAIL, "FPX_O_RFLM": _FAIL, "FPX_O_RTHM": _FAIL, "FPX_O_RTOC": _FAIL,
    "FPX_O_RTR": _FAIL, "FPX_O_SCB": _FAIL, "FPX_O_SD": _FAIL, "FPX_S_CC": _FAIL,
    "FPX_Y_CCMC": _FAIL, "FPX_Y_CCSC": _FAIL, "FPX_Y_COBH": _FAIL,
    "FPX_I_DELAY": (S.EXCEPTION, U.CARRIER_DELAY),
}  # fmt: skip

# Families of reason variants; the longest matching prefix wins.
PREFIXES: tuple[tuple[str, tuple[str, str]], ...] = (
    ("FPX_D_FD", (S.FAILED_ATTEMPT, "")),
    ("FPX_C_HF", (S.EXCEPTION, U.HELD_AT_DEPOT)),
    ("FPX_D_SH", _FAIL),
    ("FPX_I_HC", (S.EXCEPTION, U.CUSTOMS_HOLD)),
    ("FPX_O_SPH", _FAIL),
    ("FPX_D_DD", (S.EXCEPTION, U.CARRIER_DELAY)),
    ("FPX_M_TD", (S.EXCEPTION, U.CARRIER_DELAY)),
)


def _event(item: dict) -> Event:
    code = str(item.get("businessLinkCode") or "").strip().upper()
    tz = timestamps.fixed_offset(str(item.get("timeZone") or "")) or SHANGHAI
    when = timestamps.parse_local(item.get("occurDatetime"), tz)
    location = split_location(item.get("occurLocation") or "")
    event = make_event(CODES, code, when, item.get("trackingContent") or "", location, raw=item)
    if not event.is_mapped:
        family = next((hit for prefix, hit in PREFIXES if code.startswith(prefix)), None)
        if family is not None:
            event.status, event.substatus, event.is_mapped = family[0], family[1], True
    return event


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if str(doc.get("result")) != "1":
        first = (doc.get("errors") or [{}])[0] or {}
        return error(
            CARRIER,
            first.get("errorMsg") or doc.get("msg") or "4PX error",
            str(first.get("errorCode") or ""),
        )
    data = doc.get("data") or {}
    items = data.get("trackingList") or []
    if not items:
        return not_found(
            CARRIER, "no tracking events for this number", number=data.get("deliveryOrderNo") or ""
        )
    events = [_event(item) for item in items]
    return finish(CARRIER, data.get("deliveryOrderNo") or "", events)
