"""J&T Express open platform trace query (JSON ``data[].details[]``) -> our schema.

Each scan carries J&T's numeric ``scanTypeCode`` (10 pick-up, 20 departure,
30 arrival, 94 delivery, 100 delivery signature, 300-306 terminal states),
which is what we map. The Chinese platform also names its scan types
(快件揽收, 快件签收, ...) in ``scanType``; that enumeration is the fallback
when a scan has no numeric code.

Scan times are local to the J&T network that scanned; a scan may say its
zone in ``timeZone``, otherwise it is the platform's UTC+8 (China and
Malaysia alike, neither with daylight saving time). Several ``data`` entries
are the pieces of a multi-piece waybill (main number plus ``-01``, ``-02``)."""

from __future__ import annotations

from datetime import timedelta, timezone

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    country_from_name,
    error,
    finish,
    load_json,
    make_event,
    not_found,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "jtexpress"
PLATFORM_TZ = timezone(timedelta(hours=8))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_IT = (S.IN_TRANSIT, "")
# scanTypeCode, from the open platform's scan node list. 200 ("Collected") is
# left out on purpose: the list does not say who collected the parcel from
# whom, so it stays unmapped rather than guessed.
CODES: CodeTable = {
    "10": _IT, "20": _IT, "30": _IT,
    "94": (S.OUT_FOR_DELIVERY, ""),
    "100": (S.DELIVERED, ""),
    "110": (S.EXCEPTION, ""),
    "172": (S.EXCEPTION, U.RETURNING_TO_SENDER),
    "173": (S.EXCEPTION, U.RETURNED_TO_SENDER),
    "300": (S.EXCEPTION, U.DAMAGED),
    "301": (S.EXCEPTION, U.LOST),
    "302": (S.EXCEPTION, U.DESTROYED),
    "303": (S.EXCEPTION, U.REFUSED),
    "304": (S.EXCEPTION, U.CUSTOMS_HOLD),
    "305": (S.EXPIRED, ""),
    "306": (S.EXCEPTION, U.DESTROYED),
}  # fmt: skip

# scanType names of the Chinese platform (the subscription node list).
SCAN_TYPES: CodeTable = {
    "快件揽收": _IT, "发件扫描": _IT, "到件扫描": _IT, "安检扫描": _IT,
    "出仓扫描": (S.OUT_FOR_DELIVERY, ""),
    "代理点收入扫描": (S.AVAILABLE_FOR_PICKUP, ""),
    "快件签收": (S.DELIVERED, ""),
    "问题件扫描": (S.EXCEPTION, ""),
    "退件扫描": (S.EXCEPTION, U.RETURNING_TO_SENDER),
}  # fmt: skip


def _event(scan: dict):
    tz = timestamps.fixed_offset(str(scan.get("timeZone") or "")) or PLATFORM_TZ
    when = timestamps.parse_local(scan.get("scanTime"), tz, TIME_FORMAT)
    location = Location(
        city=scan.get("scanNetworkCity") or "",
        region=scan.get("scanNetworkProvince") or "",
        country=country_from_name(scan.get("scanNetworkCountry")),
    )
    code = str(scan.get("scanTypeCode") or "")
    table = CODES
    if not code:
        code, table = scan.get("scanType") or "", SCAN_TYPES
    return make_event(table, code, when, scan.get("desc") or "", location, raw=scan)


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    code = str(doc.get("code", ""))
    if code != "1":
        # 0 is a plain failure; 1450030xx are gateway refusals (signature,
        # account, permissions). Neither says anything about the parcel.
        return error(CARRIER, doc.get("msg") or "J&T Express error", code)
    pieces = [p for p in doc.get("data") or [] if p.get("details")]
    if not pieces:
        first = (doc.get("data") or [{}])[0] or {}
        return not_found(CARRIER, "no scans for this waybill", number=first.get("billCode", ""))
    events = [_event(scan) for piece in pieces for scan in piece["details"]]
    number = pieces[0].get("billCode") or ""
    return finish(CARRIER, number.partition("-")[0], events, pieces=len(pieces))
