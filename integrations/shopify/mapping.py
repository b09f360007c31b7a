"""Shopify's payloads into the common mirror shape (``integrations.commerce``).

Two shapes arrive: webhooks carry the REST resource (snake_case, money as
strings, numeric ids), the GraphQL API answers camelCase nodes with global
ids. Both map to the same dataclasses, and each keeps the payload it came
from. Addresses are kept in the REST spelling (``country_code``) whatever
their source, because the rest of the desk reads them that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from integrations.commerce import (
    CustomerData,
    FulfillmentData,
    LineData,
    OrderData,
    RefundData,
)
from integrations.models import TrackingStatus

# Shopify's fulfilment shipment_status (REST) / displayStatus (GraphQL).
SHIPMENT_STATUS = {
    "label_printed": TrackingStatus.INFO_RECEIVED,
    "label_purchased": TrackingStatus.INFO_RECEIVED,
    "confirmed": TrackingStatus.INFO_RECEIVED,
    "carrier_picked_up": TrackingStatus.IN_TRANSIT,
    "in_transit": TrackingStatus.IN_TRANSIT,
    "out_for_delivery": TrackingStatus.OUT_FOR_DELIVERY,
    "attempted_delivery": TrackingStatus.FAILED_ATTEMPT,
    "ready_for_pickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "picked_up": TrackingStatus.DELIVERED,
    "delivered": TrackingStatus.DELIVERED,
    "failure": TrackingStatus.EXCEPTION,
    "not_delivered": TrackingStatus.EXCEPTION,
}

# Shopify's tracking_company names to our carrier codes.
CARRIERS = {
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
    "dhl express": "dhl_express",
    "dhl ecommerce": "dhl",
    "dhl parcel": "dhl",
    "canada post": "canadapost",
    "royal mail": "royalmail",
    "australia post": "australiapost",
    "dpd": "dpd",
    "gls": "gls",
    "purolator": "purolator",
    "evri": "hermes",
    "hermes": "hermes",
    "la poste": "laposte",
    "colissimo": "laposte",
    "chronopost": "chronopost",
    "yanwen": "yanwen",
    "sf express": "sf_express",
}


def carrier_code(company: str | None) -> str:
    name = (company or "").strip().lower()
    return CARRIERS.get(name) or re.sub(r"[^a-z0-9]+", "_", name).strip("_") or "unknown"


def gid(kind: str, legacy_id: str | int) -> str:
    return f"gid://shopify/{kind}/{legacy_id}"


def legacy_id(value: str | int | None) -> str:
    """'gid://shopify/Order/123' or 123 → '123'."""
    text = str(value or "")
    return text.rsplit("/", 1)[-1]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"Timestamp without an offset: {value!r}")
    return parsed


def _decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else default))
    except InvalidOperation as exc:
        raise ValueError(f"Not an amount: {value!r}") from exc


def _shop_money(value: dict | None) -> Decimal:
    return _decimal(((value or {}).get("shop_money") or {}).get("amount"))


def _number(name: str | None, fallback: Any) -> str:
    return (name or str(fallback or "")).lstrip("#").strip()


def _rest_address(address: dict | None) -> dict[str, Any]:
    if not address:
        return {}
    keep = (
        "name",
        "first_name",
        "last_name",
        "company",
        "address1",
        "address2",
        "city",
        "province",
        "province_code",
        "zip",
        "country",
        "country_code",
        "phone",
    )
    return {k: address[k] for k in keep if address.get(k) not in (None, "")}


# --- webhooks (REST resource shape) -----------------------------------------


def fulfillment_from_rest(payload: dict[str, Any]) -> FulfillmentData:
    numbers = [n for n in payload.get("tracking_numbers") or [] if n]
    if not numbers and payload.get("tracking_number"):
        numbers = [payload["tracking_number"]]
    return FulfillmentData(
        external_id=str(payload["id"]),
        order_external_id=str(payload["order_id"]),
        carrier=carrier_code(payload.get("tracking_company")),
        tracking_numbers=numbers,
        status=SHIPMENT_STATUS.get(payload.get("shipment_status") or "", ""),
        occurred_at=parse_time(payload.get("updated_at") or payload.get("created_at")),
        raw=payload,
    )


def order_from_rest(payload: dict[str, Any]) -> OrderData:
    customer = payload.get("customer") or {}
    email = payload.get("email") or payload.get("contact_email") or customer.get("email") or ""
    name = " ".join(p for p in (customer.get("first_name"), customer.get("last_name")) if p)
    placed_at = parse_time(payload.get("processed_at") or payload.get("created_at"))
    if placed_at is None:
        raise ValueError("The order has no created_at")
    return OrderData(
        external_id=str(payload["id"]),
        number=_number(payload.get("name"), payload.get("order_number")),
        email=email,
        currency=payload.get("currency") or "USD",
        subtotal=_decimal(payload.get("subtotal_price")),
        shipping_total=_shop_money(payload.get("total_shipping_price_set")),
        tax_total=_decimal(payload.get("total_tax")),
        total=_decimal(payload.get("total_price")),
        financial_status=payload.get("financial_status") or "",
        fulfillment_status=payload.get("fulfillment_status") or "",
        sales_channel=payload.get("source_name") or "online_store",
        shipping_address=_rest_address(payload.get("shipping_address")),
        placed_at=placed_at,
        cancelled_at=parse_time(payload.get("cancelled_at")),
        customer=CustomerData(
            email=email,
            name=name,
            phone=customer.get("phone") or "",
            external_id=str(customer.get("id") or ""),
        )
        if email
        else None,
        lines=[
            LineData(
                sku=_rest_line_sku(item),
                title=item.get("title") or item.get("name") or "",
                quantity=int(item.get("quantity") or 0),
                unit_price=_decimal(item.get("price")),
                external_id=str(item.get("id") or ""),
            )
            for item in payload.get("line_items") or []
        ],
        fulfillments=[fulfillment_from_rest(f) for f in payload.get("fulfillments") or []],
        raw=payload,
    )


def refund_from_rest(payload: dict[str, Any]) -> RefundData:
    # The money that moved is the sum of successful refund transactions; a
    # refund that only restocks items has none.
    amount = sum(
        (
            _decimal(t.get("amount"))
            for t in payload.get("transactions") or []
            if t.get("kind") == "refund" and t.get("status") == "success"
        ),
        Decimal("0"),
    )
    currency = next(
        (
            t.get("currency")
            for t in payload.get("transactions") or []
            if isinstance(t.get("currency"), str) and len(t["currency"]) == 3
        ),
        "",
    )
    return RefundData(
        external_id=gid("Refund", payload["id"]),
        order_external_id=str(payload["order_id"]),
        amount=amount,
        currency=currency,
        note=payload.get("note") or "",
        raw=payload,
    )


# --- GraphQL nodes -------------------------------------------------------------


def gql_money(node: dict | None) -> Decimal:
    return _decimal(((node or {}).get("shopMoney") or {}).get("amount"))


def _gql_address(address: dict | None) -> dict[str, Any]:
    if not address:
        return {}
    spelled = {
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "province_code": address.get("provinceCode"),
        "zip": address.get("zip"),
        "country_code": address.get("countryCodeV2"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v not in (None, "")}


def fulfillment_from_graphql(node: dict[str, Any], order_external_id: str) -> FulfillmentData:
    tracking = node.get("trackingInfo") or []
    company = next((t.get("company") for t in tracking if t.get("company")), None)
    return FulfillmentData(
        external_id=legacy_id(node.get("legacyResourceId") or node["id"]),
        order_external_id=order_external_id,
        carrier=carrier_code(company),
        tracking_numbers=[t["number"] for t in tracking if t.get("number")],
        status=SHIPMENT_STATUS.get(str(node.get("displayStatus") or "").lower(), ""),
        occurred_at=parse_time(node.get("updatedAt") or node.get("createdAt")),
        raw=node,
    )


def order_from_graphql(node: dict[str, Any]) -> OrderData:
    external_id = legacy_id(node.get("legacyResourceId") or node["id"])
    customer = node.get("customer") or {}
    email = node.get("email") or ""
    placed_at = parse_time(node.get("processedAt") or node.get("createdAt"))
    if placed_at is None:
        raise ValueError("The order has no createdAt")
    return OrderData(
        external_id=external_id,
        number=_number(node.get("name"), external_id),
        email=email,
        currency=node.get("currencyCode") or "USD",
        subtotal=gql_money(node.get("subtotalPriceSet")),
        shipping_total=gql_money(node.get("totalShippingPriceSet")),
        tax_total=gql_money(node.get("totalTaxSet")),
        total=gql_money(node.get("totalPriceSet")),
        financial_status=str(node.get("displayFinancialStatus") or "").lower(),
        fulfillment_status=str(node.get("displayFulfillmentStatus") or "").lower(),
        sales_channel=node.get("sourceName") or "online_store",
        shipping_address=_gql_address(node.get("shippingAddress")),
        placed_at=placed_at,
        cancelled_at=parse_time(node.get("cancelledAt")),
        customer=CustomerData(
            email=email,
            name=customer.get("displayName") or "",
            phone=customer.get("phone") or "",
            external_id=legacy_id(customer.get("legacyResourceId") or customer.get("id")),
        )
        if email
        else None,
        lines=[
            LineData(
                sku=_gql_line_sku(item),
                title=item.get("title") or item.get("name") or "",
                quantity=int(item.get("quantity") or 0),
                unit_price=gql_money(item.get("originalUnitPriceSet")),
                product_type=((item.get("product") or {}).get("productType") or ""),
                external_id=item.get("id") or "",
            )
            for item in (node.get("lineItems") or {}).get("nodes") or []
        ],
        fulfillments=[
            fulfillment_from_graphql(f, external_id) for f in node.get("fulfillments") or []
        ],
        raw=node,
    )


def _rest_line_sku(item: dict[str, Any]) -> str:
    return item.get("sku") or str(item.get("variant_id") or item.get("id"))


def _gql_line_sku(item: dict[str, Any]) -> str:
    return item.get("sku") or legacy_id(item.get("id"))


class LineItemRef(NamedTuple):
    """One of the order's line items as a refund names it."""

    gid: str
    sku: str
    quantity: int
    unfulfilled: int


def line_items(raw: dict[str, Any]) -> list[LineItemRef]:
    """The line items of a mirrored order's payload, whichever shape it was kept in
    (a webhook's REST resource or a GraphQL node), under the SKUs the mirror gives
    its lines, with how many of each have not been fulfilled yet."""
    if "line_items" in raw:
        fulfilled = _fulfilled_by_line(
            (str(item.get("id")), int(item.get("quantity") or 0))
            for f in raw.get("fulfillments") or []
            for item in f.get("line_items") or []
        )
        refs = []
        for item in raw.get("line_items") or []:
            quantity = int(item.get("quantity") or 0)
            unfulfilled = item.get("fulfillable_quantity")
            if not isinstance(unfulfilled, int):
                unfulfilled = quantity - fulfilled.get(str(item.get("id")), 0)
            refs.append(
                LineItemRef(
                    item.get("admin_graphql_api_id") or gid("LineItem", item["id"]),
                    _rest_line_sku(item),
                    quantity,
                    max(unfulfilled, 0),
                )
            )
        return refs
    fulfilled = _fulfilled_by_line(
        (((item.get("lineItem") or {}).get("id") or ""), int(item.get("quantity") or 0))
        for f in raw.get("fulfillments") or []
        for item in (f.get("fulfillmentLineItems") or {}).get("nodes") or []
    )
    return [
        LineItemRef(
            item["id"],
            _gql_line_sku(item),
            int(item.get("quantity") or 0),
            max(int(item.get("quantity") or 0) - fulfilled.get(item["id"], 0), 0),
        )
        for item in (raw.get("lineItems") or {}).get("nodes") or []
    ]


def _fulfilled_by_line(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for line_id, quantity in pairs:
        total[line_id] = total.get(line_id, 0) + quantity
    return total


def fulfillment_line_items(node: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """SKU → [(FulfillmentLineItem gid, quantity)] from a GraphQL order node:
    Shopify returns are made of fulfilment line items, not order lines."""
    found: dict[str, list[tuple[str, int]]] = {}
    for fulfillment in node.get("fulfillments") or []:
        for item in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or []:
            sku = ((item.get("lineItem") or {}).get("sku")) or ""
            found.setdefault(sku, []).append((item["id"], int(item.get("quantity") or 0)))
    return found


def address_input(address: dict[str, str]) -> dict[str, str]:
    """Our address (REST spelling) as Shopify's MailingAddressInput."""
    first, _, last = (address.get("name") or "").partition(" ")
    spelled = {
        "firstName": first,
        "lastName": last,
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "provinceCode": address.get("province_code"),
        "countryCode": address.get("country_code"),
        "zip": address.get("zip"),
        "phone": address.get("phone"),
    }
    return {k: v for k, v in spelled.items() if v}
