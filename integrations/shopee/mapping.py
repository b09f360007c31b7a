"""Shopee's payloads into the common mirror shape (``integrations.commerce``).

get_order_detail answers the order with its items (one per model, with a
purchased quantity) and its packages (a carrier and a logistics status each);
tracking numbers come from get_logistics' tracking number call, one per
package. Shopee does not disclose buyer emails, so mirrored orders have none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.commerce import FulfillmentData, LineData, OrderData
from integrations.models import TrackingStatus

PACKAGE_STATUS = {
    "LOGISTICS_READY": TrackingStatus.INFO_RECEIVED,
    "LOGISTICS_REQUEST_CREATED": TrackingStatus.INFO_RECEIVED,
    "LOGISTICS_PICKUP_DONE": TrackingStatus.IN_TRANSIT,
    "LOGISTICS_DELIVERY_DONE": TrackingStatus.DELIVERED,
    "LOGISTICS_DELIVERY_FAILED": TrackingStatus.EXCEPTION,
    "LOGISTICS_LOST": TrackingStatus.EXCEPTION,
}
CANCELLABLE = {"UNPAID", "READY_TO_SHIP"}


def from_unix(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"Not a Unix time: {value!r}") from exc


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def carrier_code(name: str | None) -> str:
    text = (name or "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "unknown"


def _address(address: dict[str, Any] | None) -> dict[str, Any]:
    if not address:
        return {}
    spelled = {
        "name": address.get("name"),
        "address1": address.get("full_address"),
        "city": address.get("city"),
        "province": address.get("state"),
        "zip": address.get("zipcode"),
        "country_code": address.get("region"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def order_from_api(order: dict[str, Any], tracking: dict[str, str] | None = None) -> OrderData:
    """``tracking``: package number → tracking number, read separately."""
    order_sn = str(order["order_sn"])
    placed_at = from_unix(order.get("create_time"))
    if placed_at is None:
        raise ValueError("The order has no create_time")
    status = order.get("order_status") or ""
    items = order.get("item_list") or []
    lines = [
        LineData(
            sku=item.get("model_sku") or item.get("item_sku") or str(item.get("model_id") or ""),
            title=" / ".join(p for p in (item.get("item_name"), item.get("model_name")) if p),
            quantity=int(item.get("model_quantity_purchased") or 1),
            unit_price=money(item.get("model_discounted_price")),
            external_id=str(item.get("order_item_id") or item.get("item_id") or ""),
        )
        for item in items
    ]
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    updated = from_unix(order.get("update_time"))
    fulfillments = [
        FulfillmentData(
            external_id=str(package["package_number"]),
            order_external_id=order_sn,
            carrier=carrier_code(package.get("shipping_carrier") or order.get("shipping_carrier")),
            tracking_numbers=[(tracking or {}).get(str(package["package_number"]), "")],
            status=PACKAGE_STATUS.get(package.get("logistics_status") or "", ""),
            occurred_at=updated,
            raw=package,
        )
        for package in order.get("package_list") or []
        if (tracking or {}).get(str(package.get("package_number")))
    ]
    return OrderData(
        external_id=order_sn,
        number=order_sn,
        email="",
        currency=order.get("currency") or "",
        subtotal=subtotal,
        shipping_total=money(
            order.get("actual_shipping_fee") or order.get("estimated_shipping_fee")
        ),
        total=money(order.get("total_amount")),
        financial_status="pending" if status == "UNPAID" else "paid",
        fulfillment_status=status.lower(),
        sales_channel="shopee",
        shipping_address=_address(order.get("recipient_address")),
        placed_at=placed_at,
        cancelled_at=updated if status == "CANCELLED" else None,
        lines=lines,
        fulfillments=fulfillments,
        raw=order,
    )
