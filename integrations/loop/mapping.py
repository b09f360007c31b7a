"""Loop's return (webhook body, Detailed Returns List, Return Details) into the return mirror.

Loop's ``state`` is open, review (needs review), closed, cancelled or
expired; the parcel's progress is in ``labels[].status`` (new, pre_transit,
in_transit, out_for_delivery, delivered). A refused or lapsed return is
cancelled, a closed one closed, and an open one reads from its label.
Loop lists one line item per unit, so lines are counted by SKU.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.models import Return
from integrations.return_mirror import ReturnData, ReturnLine

S = Return.Status

_BY_LABEL = {
    "new": S.LABEL_SENT,
    "pre_transit": S.LABEL_SENT,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.IN_TRANSIT,
    "delivered": S.RECEIVED,
}


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _label(ret: dict[str, Any]) -> dict[str, Any]:
    labels = [label for label in ret.get("labels") or [] if isinstance(label, dict)]
    labels.sort(key=lambda label: str(label.get("updated_at") or ""))
    return labels[-1] if labels else {}


def desk_status(ret: dict[str, Any]) -> str:
    state = str(ret.get("state") or "")
    if state in {"cancelled", "expired"}:
        return S.CANCELLED
    if state == "closed":
        return S.CLOSED
    return _BY_LABEL.get(str(_label(ret).get("status") or ""), S.REQUESTED)


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal("0")


def _resolution(ret: dict[str, Any]) -> str:
    if ret.get("outcome"):  # the list and details answers say it outright
        return str(ret["outcome"])
    parts = []
    if ret.get("exchanges") or _amount(ret.get("exchange_total")) > 0:
        parts.append("exchange")
    if _amount(ret.get("refund")) > 0:
        parts.append("refund")
    if _amount(ret.get("gift_card")) > 0:
        parts.append("credit")
    return "+".join(parts)


def version_of(ret: dict[str, Any]) -> datetime | None:
    """Loop stamps no event time: the newest of the return's own times orders deliveries."""
    stamps = [parse_time(ret.get(key)) for key in ("created_at", "updated_at", "edited_at")] + [
        parse_time(label.get("updated_at")) for label in ret.get("labels") or []
    ]
    known = [stamp for stamp in stamps if stamp is not None]
    return max(known) if known else None


def return_data(ret: dict[str, Any]) -> ReturnData:
    lines: dict[str, ReturnLine] = {}
    for item in ret.get("line_items") or []:
        if not isinstance(item, dict):
            continue
        sku = str(item.get("sku") or item.get("provider_line_item_id") or "")
        line = lines.setdefault(
            sku,
            ReturnLine(
                sku=sku,
                title=str(item.get("title") or ""),
                quantity=0,
                reason=str(item.get("return_reason") or item.get("parent_return_reason") or ""),
            ),
        )
        line.quantity += 1
    label = _label(ret)
    return ReturnData(
        external_id=str(ret["id"]),
        status=desk_status(ret),
        provider_status=str(ret.get("state") or ""),
        reference=str(ret["id"]),
        resolution=_resolution(ret),
        order_external_id=str(ret.get("provider_order_id") or ""),
        order_number=str(ret.get("order_name") or ret.get("provider_order_number") or ""),
        lines=list(lines.values()),
        label_carrier=str(label.get("carrier") or "").lower(),
        label_tracking_number=str(label.get("tracking_number") or ""),
        label_url=str(label.get("url") or ""),
        raw=ret,
    )
