"""SFCC's Order document (SCAPI Orders / Shopper Orders ``Order``) into the common mirror shape.

Times are ISO 8601 in UTC (``2026-06-28T16:48:38.000Z``), amounts JSON
numbers, the order number ``orderNo`` is what the customer sees. Tracking
numbers live on each shipment (``trackingNumber``); the carrier is only
known through the shipping method's name.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.commerce import CustomerData, FulfillmentData, LineData, OrderData

CARRIER_WORDS = {
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
    "dhl": "dhl_express",
    "royal mail": "royalmail",
    "canada post": "canadapost",
}


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"Timestamp without an offset: {value!r}")
    return parsed


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def carrier_code(shipping_method: dict[str, Any] | None) -> str:
    name = str((shipping_method or {}).get("name") or (shipping_method or {}).get("id") or "")
    lowered = name.lower()
    for word, code in CARRIER_WORDS.items():
        if word in lowered:
            return code
    return re.sub(r"[^a-z0-9]+", "_", lowered).strip("_") or "unknown"


def address_from_sfcc(address: dict[str, Any] | None) -> dict[str, Any]:
    if not address:
        return {}
    name = address.get("fullName") or " ".join(
        p for p in (address.get("firstName"), address.get("lastName")) if p
    )
    spelled = {
        "name": name,
        "company": address.get("companyName"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province_code": address.get("stateCode"),
        "zip": address.get("postalCode"),
        "country_code": address.get("countryCode"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def address_to_sfcc(address: dict[str, str]) -> dict[str, Any]:
    first, _, last = (address.get("name") or "").partition(" ")
    spelled = {
        "firstName": first,
        "lastName": last,
        "fullName": address.get("name"),
        "companyName": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "stateCode": address.get("province_code"),
        "postalCode": address.get("zip"),
        "countryCode": address.get("country_code"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v}


def order_from_sfcc(order: dict[str, Any]) -> OrderData:
    placed_at = parse_time(order.get("creationDate"))
    if placed_at is None:
        raise ValueError("The order has no creationDate")
    info = order.get("customerInfo") or {}
    email = info.get("email") or ""
    shipments = order.get("shipments") or []
    first_address = next(
        (s.get("shippingAddress") for s in shipments if s.get("shippingAddress")), None
    )
    status = str(order.get("status") or "")
    number = str(order["orderNo"])
    return OrderData(
        external_id=number,
        number=number,
        email=email,
        currency=order.get("currency") or "USD",
        subtotal=decimal(order.get("productSubTotal")),
        shipping_total=decimal(order.get("shippingTotal")),
        tax_total=decimal(order.get("taxTotal")),
        total=decimal(order.get("orderTotal")),
        financial_status=str(order.get("paymentStatus") or ""),
        fulfillment_status=str(order.get("shippingStatus") or ""),
        sales_channel=str(order.get("channelType") or "online_store"),
        shipping_address=address_from_sfcc(first_address),
        placed_at=placed_at,
        cancelled_at=parse_time(order.get("lastModified")) if status == "cancelled" else None,
        customer=CustomerData(
            email=email,
            name=info.get("customerName") or "",
            external_id=str(info.get("customerId") or info.get("customerNo") or ""),
        )
        if email
        else None,
        lines=[
            LineData(
                sku=str(item.get("productId") or item.get("itemId")),
                title=item.get("productName") or item.get("itemText") or "",
                quantity=int(Decimal(str(item.get("quantity") or 0))),
                unit_price=decimal(item.get("basePrice")),
                external_id=str(item.get("itemId") or ""),
            )
            for item in order.get("productItems") or []
        ],
        fulfillments=[
            FulfillmentData(
                external_id=f"{number}:{shipment.get('shipmentId')}",
                order_external_id=number,
                carrier=carrier_code(shipment.get("shippingMethod")),
                tracking_numbers=[str(shipment["trackingNumber"])],
                occurred_at=parse_time(order.get("lastModified")),
                raw=shipment,
            )
            for shipment in shipments
            if shipment.get("trackingNumber")
        ],
        raw=order,
    )
