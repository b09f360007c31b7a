"""WooCommerce's order resource into the common mirror shape.

The same order object arrives from the REST API and in ``order.*``
webhooks. Dates without an offset are the site's local time; the ``_gmt``
twins are UTC and are the ones used. WooCommerce core has no shipments:
tracking numbers come from the Shipment Tracking extension's
``_wc_shipment_tracking_items`` order meta when it is installed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.commerce import CustomerData, FulfillmentData, LineData, OrderData, RefundData

TRACKING_META = "_wc_shipment_tracking_items"
CARRIERS = {
    "ups": "ups",
    "usps": "usps",
    "fedex": "fedex",
    "dhl": "dhl",
    "dhl express": "dhl_express",
    "royal mail": "royalmail",
    "canada post": "canadapost",
    "australia post": "australiapost",
    "dpd": "dpd",
    "gls": "gls",
    "evri": "hermes",
    "la poste": "laposte",
    "colissimo": "laposte",
}


def carrier_code(name: str | None) -> str:
    text = (name or "").strip().lower().replace("-", " ")
    return CARRIERS.get(text) or re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "unknown"


def gmt(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def address(raw: dict[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    name = " ".join(str(raw[k]) for k in ("first_name", "last_name") if raw.get(k))
    spelled = {
        "name": name,
        "first_name": raw.get("first_name"),
        "last_name": raw.get("last_name"),
        "company": raw.get("company"),
        "address1": raw.get("address_1"),
        "address2": raw.get("address_2"),
        "city": raw.get("city"),
        "province_code": raw.get("state"),
        "zip": raw.get("postcode"),
        "country_code": raw.get("country"),
        "phone": raw.get("phone"),
    }
    return {k: str(v) for k, v in spelled.items() if v not in (None, "")}


def address_fields(ours: dict[str, str]) -> dict[str, str]:
    first, _, last = (ours.get("name") or "").partition(" ")
    return {
        "first_name": first,
        "last_name": last,
        "company": ours.get("company", ""),
        "address_1": ours.get("address1", ""),
        "address_2": ours.get("address2", ""),
        "city": ours.get("city", ""),
        "state": ours.get("province_code", ""),
        "postcode": ours.get("zip", ""),
        "country": ours.get("country_code", ""),
    }


def meta(raw: dict[str, Any], key: str) -> Any:
    return next((m.get("value") for m in raw.get("meta_data") or [] if m.get("key") == key), None)


def fulfillments(raw: dict[str, Any]) -> list[FulfillmentData]:
    items = meta(raw, TRACKING_META) or []
    found = []
    for item in items if isinstance(items, list) else []:
        shipped = item.get("date_shipped")
        found.append(
            FulfillmentData(
                external_id=str(item.get("tracking_id") or item.get("tracking_number")),
                order_external_id=str(raw["id"]),
                carrier=carrier_code(
                    item.get("tracking_provider") or item.get("custom_tracking_provider")
                ),
                tracking_numbers=[str(item["tracking_number"])]
                if item.get("tracking_number")
                else [],
                occurred_at=datetime.fromtimestamp(int(shipped), UTC)
                if str(shipped or "").isdigit()
                else None,
                raw=item,
            )
        )
    return found


def order(raw: dict[str, Any]) -> OrderData:
    placed_at = gmt(raw.get("date_created_gmt"))
    if placed_at is None:
        raise ValueError("The order has no date_created_gmt")
    billing = raw.get("billing") or {}
    email = str(billing.get("email") or "")
    lines = raw.get("line_items") or []
    status = str(raw.get("status") or "")
    return OrderData(
        external_id=str(raw["id"]),
        number=str(raw.get("number") or raw["id"]),
        email=email,
        currency=str(raw.get("currency") or "USD"),
        subtotal=sum((money(li.get("subtotal")) for li in lines), Decimal("0")),
        shipping_total=money(raw.get("shipping_total")),
        tax_total=money(raw.get("total_tax")),
        total=money(raw.get("total")),
        financial_status="paid" if raw.get("date_paid_gmt") else "unpaid",
        fulfillment_status=status,
        sales_channel=str(raw.get("created_via") or "online_store"),
        shipping_address=address(raw.get("shipping")),
        placed_at=placed_at,
        # WooCommerce keeps no cancellation date: the change is the last modification.
        cancelled_at=gmt(raw.get("date_modified_gmt")) if status == "cancelled" else None,
        customer=CustomerData(
            email=email,
            name=address(billing).get("name", ""),
            phone=str(billing.get("phone") or ""),
            external_id=str(raw.get("customer_id") or "") if raw.get("customer_id") else "",
        )
        if email
        else None,
        lines=[
            LineData(
                sku=line_sku(li),
                title=str(li.get("name") or ""),
                quantity=int(li.get("quantity") or 0),
                unit_price=money(li.get("price")),
                external_id=str(li["id"]),
            )
            for li in lines
        ],
        fulfillments=fulfillments(raw),
        raw=raw,
    )


def line_sku(item: dict[str, Any]) -> str:
    """A line's SKU, else its variation, product or line id (many stores leave SKUs empty)."""
    return str(item.get("sku") or item.get("variation_id") or item.get("product_id") or item["id"])


def refund_id(value: Any) -> str:
    return f"woocommerce:refund:{value}"


def refunds(raw: dict[str, Any]) -> list[RefundData]:
    """The refunds an order lists (``total`` is negative, as WooCommerce writes it)."""
    return [
        RefundData(
            external_id=refund_id(r["id"]),
            order_external_id=str(raw["id"]),
            amount=abs(money(r.get("total"))),
            currency=str(raw.get("currency") or ""),
            note=str(r.get("reason") or ""),
            raw=r,
        )
        for r in raw.get("refunds") or []
    ]
