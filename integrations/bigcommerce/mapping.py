"""BigCommerce's payloads into the common mirror shape (``integrations.commerce``).

A V2 order arrives in pieces: the order itself (money as four-decimal
strings, dates in RFC 2822), its products, its shipments (one tracking
number each) and its shipping addresses, each from its own endpoint. The
order number customers see is the order id. Addresses are kept in our REST
spelling (``address1``, ``country_code``) like every other store's.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from integrations.commerce import (
    CustomerData,
    FulfillmentData,
    LineData,
    OrderData,
    RefundData,
)

CANCELLED = 5
REFUNDED = 4
# Statuses in which nothing has left the warehouse yet.
UNSHIPPED = {0, 1, 7, 8, 9, 11, 12}

# shipping_provider / tracking_carrier values to our carrier codes.
CARRIERS = {
    "auspost": "australiapost",
    "australia-post": "australiapost",
    "canadapost": "canadapost",
    "canada-post": "canadapost",
    "endicia": "usps",
    "usps": "usps",
    "fedex": "fedex",
    "royalmail": "royalmail",
    "royal-mail": "royalmail",
    "ups": "ups",
    "upsready": "ups",
    "upsonline": "ups",
    "dhl": "dhl",
    "dhl-express": "dhl_express",
    "dpd": "dpd",
    "gls": "gls",
    "purolator": "purolator",
}


def carrier_code(shipment: dict[str, Any]) -> str:
    name = str(shipment.get("tracking_carrier") or shipment.get("shipping_provider") or "")
    name = name.strip().lower()
    return CARRIERS.get(name) or re.sub(r"[^a-z0-9]+", "_", name).strip("_") or "unknown"


def parse_time(value: str | None) -> datetime | None:
    """RFC 2822 (V2: 'Tue, 05 Mar 2019 21:40:11 +0000') or ISO 8601 (V3)."""
    if not value:
        return None
    text = str(value).strip()
    if text[:1].isdigit():
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Not a date: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"Timestamp without an offset: {value!r}")
    return parsed


def money(value: Any) -> Decimal:
    """BigCommerce writes amounts as '12.9900', 12.99 or 12; we keep cents."""
    try:
        amount = Decimal(str(value if value not in (None, "", {}) else "0"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc
    return amount.quantize(Decimal("0.01"))


def address(raw: dict[str, Any] | None) -> dict[str, Any]:
    """A V2 address (street_1, state, country_iso2) in our spelling."""
    if not raw:
        return {}
    name = " ".join(str(raw[k]) for k in ("first_name", "last_name") if raw.get(k))
    spelled = {
        "name": name,
        "first_name": raw.get("first_name"),
        "last_name": raw.get("last_name"),
        "company": raw.get("company"),
        "address1": raw.get("street_1"),
        "address2": raw.get("street_2"),
        "city": raw.get("city"),
        "province": raw.get("state"),
        "zip": raw.get("zip"),
        "country": raw.get("country"),
        "country_code": raw.get("country_iso2"),
        "phone": raw.get("phone"),
        "email": raw.get("email"),
    }
    return {k: str(v) for k, v in spelled.items() if v not in (None, "")}


def address_fields(ours: dict[str, str], email: str = "") -> dict[str, Any]:
    """Our address as the V2 shipping address body."""
    first, _, last = (ours.get("name") or "").partition(" ")
    spelled = {
        "first_name": first,
        "last_name": last,
        "company": ours.get("company"),
        "street_1": ours.get("address1"),
        "street_2": ours.get("address2"),
        "city": ours.get("city"),
        "state": ours.get("province") or ours.get("province_code"),
        "zip": ours.get("zip"),
        "country_iso2": ours.get("country_code"),
        "phone": ours.get("phone"),
        "email": email,
    }
    return {k: v for k, v in spelled.items() if v}


def fulfillment(shipment: dict[str, Any]) -> FulfillmentData:
    number = str(shipment.get("tracking_number") or "").strip()
    return FulfillmentData(
        external_id=str(shipment["id"]),
        order_external_id=str(shipment["order_id"]),
        carrier=carrier_code(shipment),
        tracking_numbers=[number] if number else [],
        # BigCommerce knows a shipment was created, not where the parcel is.
        status="",
        occurred_at=parse_time(shipment.get("date_created")),
        raw=shipment,
    )


def order(
    raw: dict[str, Any],
    *,
    products: list[dict[str, Any]] = (),
    shipments: list[dict[str, Any]] = (),
    shipping_addresses: list[dict[str, Any]] = (),
) -> OrderData:
    placed_at = parse_time(raw.get("date_created"))
    if placed_at is None:
        raise ValueError("The order has no date_created")
    billing = raw.get("billing_address") or {}
    email = str(billing.get("email") or "")
    status_id = int(raw.get("status_id") or 0)
    customer_id = raw.get("customer_id") or 0
    return OrderData(
        external_id=str(raw["id"]),
        number=str(raw["id"]),
        email=email,
        currency=str(raw.get("default_currency_code") or raw.get("currency_code") or "USD"),
        subtotal=money(raw.get("subtotal_inc_tax")),
        shipping_total=money(raw.get("shipping_cost_inc_tax")),
        tax_total=money(raw.get("total_tax")),
        total=money(raw.get("total_inc_tax")),
        financial_status=str(raw.get("payment_status") or ""),
        fulfillment_status=str(raw.get("status") or "").lower(),
        sales_channel=str(raw.get("order_source") or "online_store"),
        shipping_address=address(shipping_addresses[0]) if shipping_addresses else {},
        placed_at=placed_at,
        # V2 has no cancellation date: the status change is the last modification.
        cancelled_at=parse_time(raw.get("date_modified")) if status_id == CANCELLED else None,
        customer=CustomerData(
            email=email,
            name=address(billing).get("name", ""),
            phone=str(billing.get("phone") or ""),
            external_id=str(customer_id) if customer_id else "",
        )
        if email
        else None,
        lines=[
            LineData(
                sku=product_sku(p),
                title=str(p.get("name") or ""),
                quantity=int(p.get("quantity") or 0),
                unit_price=money(p.get("price_inc_tax")),
                external_id=str(p["id"]),
            )
            for p in products
            # A bundle's parts are listed beside the bundle, at no price of their own.
            if not p.get("parent_order_product_id")
        ],
        fulfillments=[fulfillment(s) for s in shipments],
        raw={
            "order": raw,
            "products": list(products),
            "shipments": list(shipments),
            "shipping_addresses": list(shipping_addresses),
        },
    )


def product_sku(product: dict[str, Any]) -> str:
    """An order product's SKU, else its catalogue product id, else its own id."""
    return str(product.get("sku") or product.get("product_id") or product["id"])


def refund_id(value: Any) -> str:
    return f"bigcommerce:refund:{value}"


def refund(raw: dict[str, Any], currency: str = "") -> RefundData:
    # The money that moved: payments the provider did not decline.
    paid = sum(
        (money(p.get("amount")) for p in raw.get("payments") or [] if not p.get("is_declined")),
        Decimal("0"),
    )
    return RefundData(
        external_id=refund_id(raw["id"]),
        order_external_id=str(raw["order_id"]),
        amount=paid,
        currency=currency,
        note=str(raw.get("reason") or ""),
        raw=raw,
    )
