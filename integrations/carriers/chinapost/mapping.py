"""China Post / EMS mail trace (JSON ``responseItems`` or pushed ``traces``) -> our schema.

Each trace carries China Post's numeric ``opCode`` with its ``opName``
(203 收寄计费信息, 954 邮件到达处理中心, 702 投递邮件接收-下段,
704 投递结果反馈-妥投, ...). We map the opCode only, and list only the
codes whose operation China Post names in its own trace records; any other
code stays unmapped until its meaning is documented.

``opTime`` is China Standard Time (UTC+8, no daylight saving time)."""

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
from integrations.carriers.schema import Location, TrackingResult
from integrations.models import TrackingStatus as S

CARRIER = "chinapost"
SHANGHAI = timestamps.zone("Asia/Shanghai")

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "203": _IT,  # 收寄计费信息: accepted and charged at the counter
    "306": _IT,  # 揽投解车: arrived at the delivery office
    "389": _IT,  # 处理中心封车: left a processing centre
    "912": _IT,  # 航班降落: flight landed
    "954": _IT,  # 邮件到达处理中心: arrived at a processing centre
    "702": (S.OUT_FOR_DELIVERY, ""),  # 投递邮件接收-下段: handed to the postman
    "704": (S.DELIVERED, ""),  # 投递结果反馈-妥投: delivered
    "705": (S.FAILED_ATTEMPT, ""),  # 投递结果反馈-未妥投: not delivered, will retry
}


def _is_true(value) -> bool:
    return value is True or str(value).lower() == "true"


def parse(raw: str | bytes) -> TrackingResult:
    doc = load_json(raw)
    if "traces" in doc:
        items = doc.get("traces") or []
    else:
        if not _is_true(doc.get("responseState")):
            return error(CARRIER, doc.get("errorDesc") or "China Post error")
        items = doc.get("responseItems") or []
    if not items:
        return not_found(CARRIER, doc.get("errorDesc") or "no traces for this mail number")
    events = []
    for item in items:
        when = timestamps.parse_local(item.get("opTime"), SHANGHAI, "%Y-%m-%d %H:%M:%S")
        location = Location(
            city=item.get("opOrgCity") or "",
            region=item.get("opOrgProvName") or "",
            country="CN",
        )
        description = item.get("opDesc") or item.get("opName") or ""
        events.append(
            make_event(CODES, str(item.get("opCode") or ""), when, description, location, raw=item)
        )
    return finish(CARRIER, items[0].get("traceNo") or items[0].get("waybillNo") or "", events)
