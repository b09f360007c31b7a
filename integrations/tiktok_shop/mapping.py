"""TikTok Shop's payloads into the common mirror shape (``integrations.commerce``).

An order (Get Order Detail, 202309) lists one line item per unit sold, each
carrying the package it ships in with that package's tracking number and
carrier; lines are folded back into quantities by SKU, and packages become
fulfilments. Money is a decimal string; times are Unix seconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.commerce import (
    CustomerData,
    FulfillmentData,
    LineData,
    OrderData,
    RefundData,
)
from integrations.models import TrackingStatus

# Order status (and a line item's display_status) to what the package is doing.
PACKAGE_STATUS = {
    "AWAITING_COLLECTION": TrackingStatus.INFO_RECEIVED,
    "IN_TRANSIT": TrackingStatus.IN_TRANSIT,
    "DELIVERED": TrackingStatus.DELIVERED,
    "COMPLETED": TrackingStatus.DELIVERED,
}
UNSHIPPED = {"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "CANCELLED"}
# A return (or refund-only request) whose money has gone back to the buyer.
REFUNDED_RETURN_STATUSES = {"RETURN_OR_REFUND_REQUEST_COMPLETE"}

CARRIERS = {
    "usps": "usps",
    "ups": "ups",
    "fedex": "fedex",
    "dhl ecommerce": "dhl",
    "royal mail": "royalmail",
    "evri": "hermes",
    "yodel": "yodel",
    "j&t express": "jtexpress",
    "sf express": "sf_express",
}


def carrier_code(name: str | None) -> str:
    text = (name or "").strip().lower()
    return CARRIERS.get(text) or re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "unknown"


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


def _address(address: dict[str, Any] | None) -> dict[str, Any]:
    if not address:
        return {}
    levels = {
        str(d.get("address_level_name", "")).lower(): d.get("address_name")
        for d in address.get("district_info") or []
    }
    spelled = {
        "name": address.get("name"),
        "address1": address.get("address_line1") or address.get("address_detail"),
        "address2": address.get("address_line2"),
        "city": levels.get("city") or levels.get("county"),
        "province": levels.get("state") or levels.get("province"),
        "zip": address.get("postal_code"),
        "country_code": address.get("region_code"),
        "phone": address.get("phone_number"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def _lines(items: list[dict[str, Any]]) -> list[LineData]:
    lines: dict[str, LineData] = {}
    for item in items:
        sku = item.get("seller_sku") or str(item.get("sku_id") or item.get("id") or "")
        if sku in lines:
            lines[sku].quantity += int(item.get("quantity") or 1)
            continue
        title = " / ".join(p for p in (item.get("product_name"), item.get("sku_name")) if p)
        lines[sku] = LineData(
            sku=sku,
            title=title,
            quantity=int(item.get("quantity") or 1),
            unit_price=money(item.get("sale_price")),
            external_id=str(item.get("sku_id") or ""),
        )
    return list(lines.values())


def _fulfillments(order: dict[str, Any]) -> list[FulfillmentData]:
    packages: dict[str, FulfillmentData] = {}
    updated = from_unix(order.get("update_time"))
    for item in order.get("line_items") or []:
        package = str(item.get("package_id") or "")
        number = item.get("tracking_number") or ""
        if not package or not number or package in packages:
            continue
        status = item.get("display_status") or order.get("status") or ""
        packages[package] = FulfillmentData(
            external_id=package,
            order_external_id=str(order["id"]),
            carrier=carrier_code(item.get("shipping_provider_name")),
            tracking_numbers=[number],
            status=PACKAGE_STATUS.get(status, ""),
            occurred_at=updated,
            raw={k: item.get(k) for k in ("package_id", "tracking_number", "display_status")},
        )
    return list(packages.values())


def order_from_api(order: dict[str, Any]) -> OrderData:
    external_id = str(order["id"])
    placed_at = from_unix(order.get("create_time"))
    if placed_at is None:
        raise ValueError("The order has no create_time")
    payment = order.get("payment") or {}
    email = order.get("buyer_email") or ""
    address = order.get("recipient_address") or {}
    status = order.get("status") or ""
    return OrderData(
        external_id=external_id,
        number=external_id,  # buyers and sellers see the order id itself
        email=email,
        currency=payment.get("currency") or "USD",
        subtotal=money(payment.get("sub_total")),
        shipping_total=money(payment.get("shipping_fee")),
        tax_total=money(payment.get("tax")),
        total=money(payment.get("total_amount")),
        financial_status="pending" if status == "UNPAID" else "paid",
        fulfillment_status=status.lower(),
        sales_channel="tiktok_shop",
        shipping_address=_address(address),
        placed_at=placed_at,
        cancelled_at=(from_unix(order.get("update_time")) if status == "CANCELLED" else None),
        customer=CustomerData(
            email=email,
            name=address.get("name") or "",
            external_id=str(order.get("user_id") or ""),
        )
        if email
        else None,
        lines=_lines(order.get("line_items") or []),
        fulfillments=_fulfillments(order),
        raw=order,
    )


def refund_from_return(record: dict[str, Any]) -> RefundData:
    """A completed return or refund-only request: the money the buyer got back."""
    amount = record.get("refund_amount") or {}
    return RefundData(
        external_id=f"return:{record['return_id']}",
        order_external_id=str(record["order_id"]),
        amount=money(amount.get("refund_total")),
        currency=amount.get("currency") or "",
        note=record.get("return_reason_text") or record.get("return_reason") or "",
        raw=record,
    )


def line_item_ids_for(order_raw: dict[str, Any], sku: str, quantity: int) -> list[str]:
    """The per-unit line item ids of ``quantity`` units of ``sku`` on the order."""
    ids = [
        str(item["id"])
        for item in order_raw.get("line_items") or []
        if sku in {item.get("seller_sku"), str(item.get("sku_id") or "")}
    ]
    return ids[:quantity]
