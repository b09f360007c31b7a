"""Lazada's payloads into the common mirror shape (``integrations.commerce``).

/order/get answers the order (totals, statuses, shipping address) and
/order/items/get its items. Lazada lists one item per unit sold, each with
its own status, tracking code and carrier (``shipment_provider``), so lines
are the items grouped by seller SKU and fulfilments are the items grouped by
tracking code. Lazada masks buyer emails, so mirrored orders have none.
Amounts are decimal strings in the country's currency, which only items
carry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.commerce import FulfillmentData, LineData, OrderData
from integrations.models import TrackingStatus

ITEM_STATUS = {
    "ready_to_ship": TrackingStatus.INFO_RECEIVED,
    "shipped": TrackingStatus.IN_TRANSIT,
    "delivered": TrackingStatus.DELIVERED,
    "failed": TrackingStatus.EXCEPTION,  # failed delivery, on its way back
    "lost_by_3pl": TrackingStatus.EXCEPTION,
    "damaged_by_3pl": TrackingStatus.EXCEPTION,
}
# Item statuses a seller may still cancel (Lazada's "Pending ~ Ready To Ship").
CANCELLABLE = {"unpaid", "pending", "packed", "ready_to_ship"}
CANCELLED = {"canceled", "cancelled"}


def parse_time(value: Any) -> datetime | None:
    """Lazada writes ``2018-02-09T22:44:30+08:00`` on orders and
    ``2021-05-25 14:02:38 +0700`` on items."""
    if value in (None, "", "null"):
        return None
    text = str(value).strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"Not a Lazada time: {value!r}")


def from_unix(value: Any) -> datetime | None:
    """Push stamps: seconds, or milliseconds for the push's own ``timestamp``."""
    if value in (None, "", 0):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Not a Unix time: {value!r}") from exc
    if number > 10**11:
        number //= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "", "null") else "0"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def carrier_code(name: str | None) -> str:
    text = (name or "").strip().lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "unknown"


def _address(address: dict[str, Any] | None) -> dict[str, Any]:
    if not address:
        return {}
    name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
    spelled = {
        "name": name,
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "zip": address.get("post_code"),
        "country": address.get("country"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def _lines(items: list[dict[str, Any]]) -> list[LineData]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        grouped[str(item.get("sku") or item.get("shop_sku") or item.get("order_item_id"))].append(
            item
        )
    return [
        LineData(
            sku=sku,
            title=" / ".join(p for p in (units[0].get("name"), units[0].get("variation")) if p),
            quantity=len(units),
            unit_price=money(units[0].get("paid_price") or units[0].get("item_price")),
            external_id=",".join(str(u.get("order_item_id")) for u in units),
        )
        for sku, units in grouped.items()
    ]


def _fulfillments(order_id: str, items: list[dict[str, Any]]) -> list[FulfillmentData]:
    parcels: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if item.get("tracking_code"):
            parcels[str(item["tracking_code"])].append(item)
    fulfillments = []
    for tracking, units in parcels.items():
        latest = max(
            units, key=lambda u: parse_time(u.get("updated_at")) or datetime.min.replace(tzinfo=UTC)
        )
        fulfillments.append(
            FulfillmentData(
                external_id=str(latest.get("package_id") or tracking),
                order_external_id=order_id,
                carrier=carrier_code(latest.get("shipment_provider")),
                tracking_numbers=[tracking],
                status=ITEM_STATUS.get(latest.get("status") or "", ""),
                occurred_at=parse_time(latest.get("updated_at")),
                raw=latest,
            )
        )
    return fulfillments


def order_from_api(order: dict[str, Any], items: list[dict[str, Any]]) -> OrderData:
    order_id = str(order["order_id"])
    placed_at = parse_time(order.get("created_at"))
    if placed_at is None:
        raise ValueError("The order has no created_at")
    statuses = [str(s) for s in order.get("statuses") or []]
    item_statuses = {str(i.get("status") or "") for i in items}
    cancelled = bool(items) and item_statuses <= CANCELLED
    # "price" is the items' total before vouchers; vouchers are what the
    # seller and the platform took off.
    subtotal = money(order.get("price"))
    shipping = money(order.get("shipping_fee"))
    voucher = money(order.get("voucher"))
    return OrderData(
        external_id=order_id,
        number=str(order.get("order_number") or order_id),
        email="",
        currency=next((str(i["currency"]) for i in items if i.get("currency")), ""),
        subtotal=subtotal,
        shipping_total=shipping,
        total=subtotal + shipping - voucher,
        financial_status="pending" if "unpaid" in statuses else "paid",
        fulfillment_status=",".join(statuses) or ",".join(sorted(item_statuses)),
        sales_channel="lazada",
        shipping_address=_address(order.get("address_shipping")),
        placed_at=placed_at,
        cancelled_at=parse_time(order.get("updated_at")) if cancelled else None,
        lines=_lines(items),
        fulfillments=_fulfillments(order_id, items),
        raw={**order, "items": items},
    )
