"""Magento's REST resources into the common mirror shape (``integrations.commerce``).

Orders come from ``GET /V1/orders/{id}`` (the ``sales-data-order-interface``),
their tracking numbers from the order's shipments (``GET /V1/shipments``),
refunds from credit memos. Magento writes times as ``YYYY-MM-DD HH:MM:SS``
in UTC with no offset, amounts as JSON numbers, and keeps the shipping
address inside ``extension_attributes.shipping_assignments``.
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

# Magento's built-in carrier codes; "custom" carriers are named by their title.
CARRIERS = {"ups": "ups", "usps": "usps", "fedex": "fedex", "dhl": "dhl_express"}
TITLES = {
    "united parcel service": "ups",
    "united states postal service": "usps",
    "federal express": "fedex",
    "dhl": "dhl_express",
    "royal mail": "royalmail",
    "canada post": "canadapost",
    "australia post": "australiapost",
}


def carrier_code(code: str | None, title: str | None = None) -> str:
    code = (code or "").strip().lower()
    if code in CARRIERS:
        return CARRIERS[code]
    name = (title or "").strip().lower()
    if name in TITLES:
        return TITLES[name]
    return re.sub(r"[^a-z0-9]+", "_", name or code).strip("_") or "unknown"


def parse_time(value: str | None) -> datetime | None:
    """Magento's '2026-07-01 12:00:00' (UTC, no offset), or ISO 8601 with one."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """The form Magento's search filters compare against."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def shipping_address_entity(order: dict[str, Any]) -> dict[str, Any]:
    """The order's shipping address as Magento holds it (with its ``entity_id``)."""
    for assignment in (order.get("extension_attributes") or {}).get("shipping_assignments") or []:
        address = (assignment.get("shipping") or {}).get("address")
        if address:
            return address
    return {}


def address_from_magento(address: dict[str, Any]) -> dict[str, Any]:
    if not address:
        return {}
    street = address.get("street") or []
    if isinstance(street, str):
        street = [street]
    name = " ".join(p for p in (address.get("firstname"), address.get("lastname")) if p)
    spelled = {
        "name": name,
        "company": address.get("company"),
        "address1": street[0] if street else "",
        "address2": " ".join(street[1:]),
        "city": address.get("city"),
        "province": address.get("region"),
        "province_code": address.get("region_code"),
        "zip": address.get("postcode"),
        "country_code": address.get("country_id"),
        "phone": address.get("telephone"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def address_to_magento(current: dict[str, Any], address: dict[str, str]) -> dict[str, Any]:
    """Our address (REST spelling) over the order's own address entity, which
    Magento needs whole (ids, type, email) to save it in place."""
    first, _, last = (address.get("name") or "").partition(" ")
    street = [s for s in (address.get("address1"), address.get("address2")) if s]
    changed = {
        "firstname": first,
        "lastname": last or current.get("lastname") or "-",
        "company": address.get("company") or None,
        "street": street,
        "city": address.get("city"),
        "region_code": address.get("province_code") or None,
        "postcode": address.get("zip"),
        "country_id": address.get("country_code"),
        "telephone": address.get("phone") or current.get("telephone"),
    }
    merged = {**current, **{k: v for k, v in changed.items() if v is not None}}
    if address.get("province_code") and address.get("province_code") != current.get("region_code"):
        # The old region's id and name would contradict the new code.
        merged.pop("region_id", None)
        merged["region"] = address["province_code"]
    return merged


def _financial_status(order: dict[str, Any]) -> str:
    paid = decimal(order.get("total_paid"))
    refunded = decimal(order.get("total_refunded"))
    if refunded > 0:
        return "refunded" if refunded >= paid else "partially_refunded"
    if paid > 0 and paid >= decimal(order.get("grand_total")):
        return "paid"
    return "pending"


def _fulfillment_status(order: dict[str, Any]) -> str:
    if order.get("state") in {"complete", "closed"}:
        return "fulfilled"
    shipped = any(decimal(i.get("qty_shipped")) > 0 for i in order.get("items") or [])
    return "partial" if shipped else ""


def visible_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines as the customer sees them: a configurable product's child row
    repeats its parent (which already carries the chosen variant's SKU)."""
    return [i for i in order.get("items") or [] if not i.get("parent_item_id")]


def fulfillment_from_shipment(shipment: dict[str, Any]) -> list[FulfillmentData]:
    """One FulfillmentData per carrier on the shipment (tracks may mix carriers)."""
    by_carrier: dict[str, list[str]] = {}
    for track in shipment.get("tracks") or []:
        number = str(track.get("track_number") or "").strip()
        if number:
            carrier = carrier_code(track.get("carrier_code"), track.get("title"))
            by_carrier.setdefault(carrier, []).append(number)
    occurred = parse_time(shipment.get("updated_at") or shipment.get("created_at"))
    return [
        FulfillmentData(
            external_id=f"{shipment['entity_id']}:{carrier}"
            if len(by_carrier) > 1
            else str(shipment["entity_id"]),
            order_external_id=str(shipment["order_id"]),
            carrier=carrier,
            tracking_numbers=numbers,
            occurred_at=occurred,
            raw=shipment,
        )
        for carrier, numbers in by_carrier.items()
    ]


def order_from_rest(order: dict[str, Any], shipments: list[dict[str, Any]] = ()) -> OrderData:
    placed_at = parse_time(order.get("created_at"))
    if placed_at is None:
        raise ValueError("The order has no created_at")
    email = order.get("customer_email") or ""
    name = " ".join(
        p for p in (order.get("customer_firstname"), order.get("customer_lastname")) if p
    )
    address = shipping_address_entity(order)
    state = order.get("state") or ""
    return OrderData(
        external_id=str(order["entity_id"]),
        number=str(order["increment_id"]),
        email=email,
        currency=order.get("order_currency_code") or order.get("base_currency_code") or "USD",
        subtotal=decimal(order.get("subtotal")),
        shipping_total=decimal(order.get("shipping_amount")),
        tax_total=decimal(order.get("tax_amount")),
        total=decimal(order.get("grand_total")),
        financial_status=_financial_status(order),
        fulfillment_status=_fulfillment_status(order),
        sales_channel="online_store",
        shipping_address=address_from_magento(address),
        placed_at=placed_at,
        # Magento keeps no cancellation time: the last change of a cancelled order is it.
        cancelled_at=parse_time(order.get("updated_at")) if state == "canceled" else None,
        customer=CustomerData(
            email=email,
            name=name,
            phone=address.get("telephone") or "",
            external_id=str(order.get("customer_id") or ""),
        )
        if email
        else None,
        lines=[
            LineData(
                sku=item.get("sku") or str(item.get("product_id") or item.get("item_id")),
                title=item.get("name") or "",
                quantity=int(Decimal(str(item.get("qty_ordered") or 0))),
                unit_price=decimal(item.get("price")),
                product_type=item.get("product_type") or "",
                external_id=str(item.get("item_id") or ""),
            )
            for item in visible_items(order)
        ],
        fulfillments=[f for s in shipments for f in fulfillment_from_shipment(s)],
        raw=order,
    )


def creditmemo_external_id(creditmemo_id: str | int) -> str:
    return f"creditmemo:{creditmemo_id}"


def refund_from_creditmemo(creditmemo: dict[str, Any]) -> RefundData:
    note = next(
        (c.get("comment") for c in creditmemo.get("comments") or [] if c.get("comment")), ""
    )
    return RefundData(
        external_id=creditmemo_external_id(creditmemo["entity_id"]),
        order_external_id=str(creditmemo["order_id"]),
        amount=decimal(creditmemo.get("grand_total")),
        currency=creditmemo.get("order_currency_code") or "",
        note=note or "",
        raw=creditmemo,
    )
