"""AfterShip Returns' return resource into the desk's return mirror.

A return's ``approval_status`` (submitted, approved, done, rejected,
expired) says where the merchant's decision stands; its ``shipping_status``
(no_label, pending, in_transit, delivered, received…) says where the parcel
is. The desk's one status reads both: a refused or lapsed return is
cancelled, a resolved one closed, and otherwise the parcel's progress wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.models import Return
from integrations.return_mirror import ReturnData, ReturnLine

S = Return.Status

_BY_SHIPPING = {
    "in_transit": S.IN_TRANSIT,
    "delivered": S.RECEIVED,
    "partially_received": S.RECEIVED,
    "received": S.RECEIVED,
    "dropped": S.IN_TRANSIT,
    "partially_dropped": S.IN_TRANSIT,
}


def desk_status(ret: dict[str, Any]) -> str:
    approval = str(ret.get("approval_status") or "")
    if approval in {"rejected", "expired"}:
        return S.CANCELLED
    if approval == "done":
        return S.CLOSED
    shipping = str(ret.get("shipping_status") or "")
    if shipping in _BY_SHIPPING:
        return _BY_SHIPPING[shipping]
    if approval == "approved" and _label(ret).get("tracking_number"):
        return S.LABEL_SENT
    return S.REQUESTED


def _label(ret: dict[str, Any]) -> dict[str, str]:
    for shipment in ret.get("shipments") or []:
        if not isinstance(shipment, dict) or not shipment.get("tracking_number"):
            continue
        label = shipment.get("label") or {}
        return {
            "tracking_number": str(shipment["tracking_number"]),
            "carrier": str(shipment.get("slug") or label.get("slug") or ""),
            "url": str(label.get("url") or ""),
        }
    return {}


def _resolution(ret: dict[str, Any]) -> str:
    outcomes = [str(o) for o in ret.get("outcomes") or []]
    if ret.get("refund_destination") == "store_credit" and "refund" in outcomes:
        return "store_credit"
    return ",".join(outcomes)


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def return_data(ret: dict[str, Any]) -> ReturnData:
    """One AfterShip return (the API's ``data`` or a webhook's snapshot)."""
    order = ret.get("order") or {}
    label = _label(ret)
    return ReturnData(
        external_id=str(ret["id"]),
        status=desk_status(ret),
        provider_status=str(ret.get("approval_status") or ""),
        reference=str(ret.get("rma_number") or ""),
        resolution=_resolution(ret),
        order_external_id=str(order.get("external_id") or ""),
        order_number=str(order.get("order_number") or order.get("order_name") or ""),
        lines=[
            ReturnLine(
                sku=str(item.get("sku") or item.get("external_order_item_id") or ""),
                title=str(item.get("product_title") or ""),
                quantity=int(
                    item.get("return_quantity") or item.get("intended_return_quantity") or 0
                ),
                reason=str(item.get("return_reason") or ""),
            )
            for item in ret.get("return_items") or []
            if isinstance(item, dict)
        ],
        label_carrier=label.get("carrier", ""),
        label_tracking_number=label.get("tracking_number", ""),
        label_url=label.get("url", ""),
        raw=ret,
    )
