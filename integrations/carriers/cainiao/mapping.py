"""Cainiao global tracking (JSON ``module[].detailList[]``) -> our schema.

Every checkpoint carries Cainiao's ``actionCode`` (GWMS_ACCEPT,
PU_PICKUP_SUCCESS, CC_EX_SUCCESS, GTMS_SIGNED, ...), the enumeration of
Cainiao's logistics tracking API, which is what we map; the descriptions are
free text in the seller's chosen language and are never read for status.

``time`` is an epoch in milliseconds, so the instant is exact; ``timeZone``
("GMT+8", "GMT-5") only says which wall clock the scan happened on, and we
keep that offset for display. A parcel's ``status`` (SIGNIN, ...) is only a
fallback for when no checkpoint code is known."""

from __future__ import annotations

from datetime import UTC, datetime

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

CARRIER = "cainiao"
SHANGHAI = timestamps.zone("Asia/Shanghai")

_INFO = (S.INFO_RECEIVED, "")
_IT = (S.IN_TRANSIT, "")
_OFD = (S.OUT_FOR_DELIVERY, "")
_DONE = (S.DELIVERED, "")
_PICKUP = (S.AVAILABLE_FOR_PICKUP, "")
_FAIL = (S.EXCEPTION, "")
_CUSTOMS = (S.EXCEPTION, U.CUSTOMS_HOLD)
_RETURNING = (S.EXCEPTION, U.RETURNING_TO_SENDER)
_REROUTED = (S.IN_TRANSIT, U.REROUTED)

CODES: CodeTable = {
    # order and warehouse
    "CONSIGN": _INFO, "OM_CONSIGN": _INFO, "GTMS_ASN": _INFO,
    "GWMS_ACCEPT": _INFO, "GWMS_PICK": _INFO, "GWMS_PACKAGE": _INFO,
    "GWMS_OUTBOUND": _IT, "GWMS_HANDOVER": _IT,
    "GWMS_REJECT": _FAIL, "GWMS_EXCEPTION": _FAIL,
    "GWMS_CANCEL": (S.EXCEPTION, U.CANCELLED),
    # first mile and origin sorting
    "PU_PICKUP_SUCCESS": _IT, "PU_SIGN_IN_SUCCESS": _IT,
    "PU_PICKUP_FAILURE": _FAIL, "PU_SIGN_IN_FAILURE": _FAIL,
    "SC_INBOUND_SUCCESS": _IT, "SC_OUTBOUND_SUCCESS": _IT, "SC_HO_OUT_SUCCESS": _IT,
    "SC_SIGN_IN_SUCCESS": _IT,
    "SC_INBOUND_FAILURE": _FAIL, "SC_OUTBOUND_FAILURE": _FAIL, "SC_HO_OUT_FAILURE": _FAIL,
    "SC_SIGN_IN_FAILURE": _FAIL,
    "TD_TRANS_ARRIVE": _IT, "TD_TRANS_DEPART": _IT,
    # export, line haul, transit and import clearance
    "CC_EX_START": _IT, "CC_EX_SUCCESS": _IT, "CC_EX_FAILURE": _CUSTOMS,
    "LH_HO_IN_SUCCESS": _IT, "LH_HO_AIRLINE": _IT, "LH_DEPART": _IT, "LH_ARRIVE": _IT,
    "LH_HO_OUT_SUCCESS": _IT, "LH_OTHER": _IT,
    "LH_HO_IN_FAILURE": _FAIL, "LH_HO_AIRLINE_FAILURE": _FAIL, "LH_ARRIVE_FAILURE": _FAIL,
    "LH_HO_OUT_FAILURE": _FAIL,
    "CC_TRANS_START": _IT, "CC_TRANS_SUCCESS": _IT, "CC_TRANS_FAILURE": _CUSTOMS,
    "CC_IM_START": _IT, "CC_IM_PROCESS": _IT, "CC_IM_SUCCESS": _IT, "CC_IM_FAILURE": _CUSTOMS,
    "CC_HO_IN_SUCCESS": _IT, "CC_HO_OUT_SUCCESS": _IT,
    "CC_HO_IN_FAILURE": _CUSTOMS, "CC_HO_OUT_FAILURE": _CUSTOMS,
    "CUS_DECLARE": _IT, "CUS_SUCCESS": _IT, "CUS_FAILURE": _CUSTOMS,
    "CUS_TAX": (S.EXCEPTION, U.DUTIES_DUE),
    "CIQ_SUCCESS": _IT, "CIQ_FAILURE": _CUSTOMS,
    # destination delivery
    "GTMS_ACCEPT": _IT, "GTMS_SC_ARRIVE": _IT, "GTMS_DO_ARRIVE": _IT, "GTMS_DO_DEPART": _IT,
    "GTMS_STATION_IN": _IT, "GTMS_STATION_OUT": _IT, "GTMS_RELABEL": _IT, "GTMS_OTHER": _IT,
    "GTMS_SC_ARRIVE_FAILURE": _FAIL, "GTMS_FAILURE": _FAIL,
    "GTMS_DELIVERING": _OFD, "GTMS_RE_DELIVERING": _OFD,
    "GTMS_DEL_FAILURE": (S.FAILED_ATTEMPT, ""), "GTMS_SIGN_FAILURE": (S.FAILED_ATTEMPT, ""),
    "GTMS_SIGNED": _DONE,
    "GTMS_WAIT_SELF_PICK": _PICKUP,
    "GTMS_STA_SIGNED": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "GTMS_STA_SIGN_FAILURE": _FAIL,
    "GTMS_STA_WAIT_CUST_CHANGE_ADDRESS": (S.EXCEPTION, U.ADDRESS_PROBLEM),
    "GTMS_STA_CUST_TO_DOOR": _REROUTED, "GTMS_STA_CHANGE": _REROUTED,
    "GTMS_STA_CN_TO_DOOR": _REROUTED, "GTMS_STA_CN_CHANGE": _REROUTED,
    "GTMS_STA_CNCP_TO_DOOR": _REROUTED, "GTMS_STA_CNCP_CHANGE": _REROUTED,
    # pickup points and lockers
    "GSTAHUB_INBOUND": _IT, "GSTA_INBOUND": _PICKUP, "POSTMAN_POST": (S.AVAILABLE_FOR_PICKUP, ""),
    "GSTA_SIGN": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "GSTA_BUYER_SIGN": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "STA_SIGN": (S.DELIVERED, U.COLLECTED_BY_RECIPIENT),
    "GSTAHUB_INBOUND_FAIL": _FAIL, "GSTA_INBOUND_FAIL": _FAIL, "GSTA_SIGN_FAIL": _FAIL,
    "GSTA_BUYER_SIGN_FAIL": _FAIL, "STA_SIGN_FAIL": _FAIL, "GSTA_OTHER": _IT,
    # Chinese domestic legs
    "GOT": _IT, "DEPARTURE": _IT, "ARRIVAL": _IT, "SENT_SCAN": _OFD, "SIGNED": _DONE,
    "REJECT": _FAIL, "FAILED": (S.FAILED_ATTEMPT, ""),
    # returns
    "RT_TMS_ACCEPT": _RETURNING, "RT_HO_OUT": _RETURNING, "RT_OUTBOUND": _RETURNING,
    "RT_TRANSWH_HO_IN": _RETURNING, "RT_TRANSWH_INBOUND": _RETURNING,
    "RT_TRANSWH_OUTBOUND": _RETURNING, "RT_WH_HO_IN": _RETURNING, "RT_WH_INBOUND": _RETURNING,
    "RT_WH_OUTBOUND": _RETURNING, "RT_WH_HO_OUT": _RETURNING,
    "RT_WH_HO_IN_FAIL": _FAIL, "RT_WH_INBOUND_FAILURE": _FAIL,
    "RT_INBOUND": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "RETURNED": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "RT_DESTROY": (S.EXCEPTION, U.DESTROYED), "RT_WH_DESTROY": (S.EXCEPTION, U.DESTROYED),
}  # fmt: skip

# The parcel-level status, consulted only when no checkpoint code maps. Only
# the value whose meaning Cainiao documents is listed; others stay unknown.
PARCEL_STATUS: CodeTable = {"SIGNIN": _DONE}


def _when(detail: dict) -> datetime | None:
    tz = timestamps.fixed_offset(str(detail.get("timeZone") or ""))
    millis = detail.get("time")
    if isinstance(millis, (int, float)):
        return datetime.fromtimestamp(millis / 1000, tz=tz or UTC)
    return timestamps.parse_local(detail.get("timeStr"), tz or SHANGHAI, "%Y-%m-%d %H:%M:%S")


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if not doc.get("success", False):
        code = str(doc.get("errorCode") or doc.get("code") or "")
        return error(CARRIER, doc.get("errorMsg") or doc.get("msg") or "Cainiao error", code)
    parcels = doc.get("module") or []
    if not parcels or not parcels[0].get("detailList"):
        parcel = parcels[0] if parcels else {}
        return not_found(
            CARRIER,
            parcel.get("statusDesc") or "no checkpoints for this number",
            str(parcel.get("status") or ""),
            parcel.get("mailNo") or "",
        )
    parcel = parcels[0]
    events = [
        make_event(
            CODES,
            detail.get("actionCode") or "",
            _when(detail),
            # standerdDesc (sic) is Cainiao's English wording; desc is the carrier's own.
            detail.get("standerdDesc") or detail.get("desc") or "",
            raw=detail,
        )
        for detail in parcel["detailList"]
    ]
    overall = PARCEL_STATUS.get(str(parcel.get("status") or ""))
    return finish(CARRIER, parcel.get("mailNo") or "", events, overall=overall)
