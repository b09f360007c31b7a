"""WooCommerce as a commerce adapter: the mirror first, the REST API when needed.

Idempotency per action. WooCommerce's refund endpoint takes no idempotency
key, so a refund is guarded by our own record: its reason carries a marker
derived from our key, and before creating one we list the order's refunds
and return the one carrying the marker; the request is never resent blind.
Refunds are made with ``api_refund`` so the payment gateway returns the
money to the original payment. A refund that names its parts sends them as
``line_items`` of the order's own item ids: product lines with the quantity
and their share of the line total (restocked with ``api_restock``), shipping
lines with the amount paid back; the ``amount`` we send still governs the
money. Core WooCommerce has no store credit, so this adapter does not declare
``REFUND_TO_STORE_CREDIT``. A cancel of a cancelled order and the same
address set twice change nothing. A replacement order carries the marker in
its meta data and is looked up among the customer's orders since the
original before another is created.

WooCommerce core has no returns, so this adapter declares no ``CREATE_RETURN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from integrations.commerce import (
    READS,
    Address,
    ApiCommerceAdapter,
    Capability,
    ExecutionError,
    ExecutionResult,
    LineRequest,
    RefundParts,
    check_refundable,
    marker,
    record_executed_refund,
)
from integrations.models import Order
from integrations.woocommerce import mapping
from integrations.woocommerce.client import WooCommerceClient

REPLACEMENT_META = "_desk_replacement"
SHIPPED = {"completed", "refunded"}


class WooCommerceAdapter(ApiCommerceAdapter[WooCommerceClient]):
    provider = "woocommerce"
    capabilities = READS | {
        Capability.REFUND,
        Capability.REFUND_LINES,
        Capability.REFUND_SHIPPING,
        Capability.CANCEL,
        Capability.UPDATE_ADDRESS,
        Capability.REPLACEMENT,
        Capability.WEBHOOKS,
    }
    client_class = WooCommerceClient
    label = "WooCommerce"

    def fetch_order(self, number: str) -> Order | None:
        raw = self.client.order(number.strip().lstrip("#"))
        return self.mirror(raw) if raw else None

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterator[Order | None]:
        recent = self.client.orders(search=email, orderby="date", order="desc", per_page=limit)
        # WooCommerce's search matches names and addresses too, not the email alone.
        mine = [
            r for r in recent if (r.get("billing") or {}).get("email", "").lower() == email.lower()
        ]
        return (self.mirror(r) for r in mine)

    def order_detail(self, order: Order) -> Order:
        raw = self.client.order(self._order_id(order))
        if raw is not None:
            self.mirror(raw)
        return super().order_detail(order)

    def mirror(self, raw: dict) -> Order | None:
        data = mapping.order(raw)
        return self._apply(data, version_at=mapping.gmt(raw.get("date_modified_gmt")))

    def refund(
        self,
        order: Order,
        amount: Decimal,
        *,
        idempotency_key: str,
        note: str,
        parts: RefundParts | None = None,
    ) -> ExecutionResult:
        body: dict = {"amount": str(amount), "api_refund": True}
        named: dict = {}
        if parts is not None:
            line_items, named = _refund_line_items(order, amount, parts)
            body.update(line_items=line_items, api_restock=bool(parts.lines))
        if (replayed := self._replayed_refund(order, idempotency_key)) is not None:
            return replayed.with_detail(**named)
        order_id = self._order_id(order)
        tag = marker(idempotency_key)
        adopted = self._adopt_marked_refund(
            order,
            amount,
            self.client.refunds(order_id),
            idempotency_key=idempotency_key,
            note=note,
            refund_id=mapping.refund_id,
        )
        if adopted is not None:
            return adopted.with_detail(**named)
        check_refundable(order, amount)
        body["reason"] = f"{note} [{tag}]".strip()
        created = self.client.create_refund(order_id, body)
        refund = record_executed_refund(
            order,
            amount,
            idempotency_key=idempotency_key,
            external_id=mapping.refund_id(created["id"]),
            note=note,
        )
        return ExecutionResult(
            refund.external_id, {"replayed": False, "woocommerce": created, **named}
        )

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        order_id = self._order_id(order)
        raw = self.client.order(order_id)
        if raw is None:
            raise ExecutionError(f"WooCommerce has no order #{order.number}", permanent=True)
        if raw.get("status") == "cancelled":
            self.mirror(raw)
            return ExecutionResult(order_id, {"replayed": True})
        if raw.get("status") in SHIPPED:
            raise ExecutionError(
                f"Order #{order.number} is {raw['status']}; it can no longer be cancelled",
                permanent=True,
            )
        self.mirror(self.client.update_order(order_id, {"status": "cancelled"}) or raw)
        return ExecutionResult(order_id, {"replayed": False})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        order_id = self._order_id(order)
        raw = self.client.order(order_id)
        if raw is None:
            raise ExecutionError(f"WooCommerce has no order #{order.number}", permanent=True)
        if raw.get("status") in SHIPPED | {"cancelled"} or mapping.fulfillments(raw):
            raise ExecutionError(
                f"Order #{order.number} has shipped or closed; its address can no longer change",
                permanent=True,
            )
        updated = self.client.update_order(
            order_id, {"shipping": mapping.address_fields(address.as_dict())}
        )
        self.mirror(updated)
        return ExecutionResult(order_id, {"shipping_address": address.as_dict()})

    def create_replacement(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        tag = marker(idempotency_key)
        order_id = self._order_id(order)
        original = self.client.order(order_id)
        if original is None:
            raise ExecutionError(f"WooCommerce has no order #{order.number}", permanent=True)
        email = (original.get("billing") or {}).get("email") or order.email
        for candidate in self.client.orders(
            search=email, after=original.get("date_created"), per_page=50
        ):
            if mapping.meta(candidate, REPLACEMENT_META) == tag:
                return ExecutionResult(str(candidate["id"]), {"replayed": True})
        by_sku = {mapping.line_sku(li): li for li in original.get("line_items") or []}
        items = []
        for line in lines:
            item = by_sku.get(line.sku)
            if item is None:
                raise ExecutionError(f"#{order.number} has no line {line.sku}", permanent=True)
            items.append(
                {
                    "product_id": item.get("product_id"),
                    "variation_id": item.get("variation_id") or 0,
                    "quantity": line.quantity,
                    # A replacement costs the customer nothing.
                    "subtotal": "0.00",
                    "total": "0.00",
                }
            )
        created = self.client.create_order(
            {
                "status": "processing",
                "customer_id": original.get("customer_id") or 0,
                "billing": original.get("billing") or {},
                "shipping": original.get("shipping") or {},
                "line_items": items,
                "customer_note": note or f"Replacement for #{order.number}",
                "meta_data": [{"key": REPLACEMENT_META, "value": tag}],
            }
        )
        return ExecutionResult(str(created.get("id", "")), {"replayed": False})


CENT = Decimal("0.01")


def _refund_line_items(order: Order, amount: Decimal, parts: RefundParts) -> tuple[list, dict]:
    """The parts as WooCommerce refund ``line_items`` (the order's item ids), and
    what they name for our records.

    Checked against the mirrored order: SKUs it holds, no more units than a line
    has, no more shipping than its shipping lines charged, and items plus
    shipping (with their tax) worth at least the amount."""
    raw = order.raw or {}
    by_sku = {mapping.line_sku(li): li for li in raw.get("line_items") or []}
    wanted: dict[str, int] = {}
    for line in parts.lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    items: list[dict] = []
    worth = Decimal("0")
    for sku, quantity in wanted.items():
        item = by_sku.get(sku)
        if item is None:
            raise ExecutionError(f"#{order.number} has no line {sku}", permanent=True)
        held = int(item.get("quantity") or 0)
        if quantity <= 0 or quantity > held:
            raise ExecutionError(
                f"#{order.number} holds {held} of {sku}, not {quantity}", permanent=True
            )
        # The line total is after discounts and before tax; a part pays its share.
        share = (mapping.money(item.get("total")) * quantity / held).quantize(CENT)
        items.append({"id": item["id"], "quantity": quantity, "refund_total": str(share)})
        worth += share + mapping.money(item.get("total_tax")) * quantity / held
    left = parts.shipping
    charged = Decimal("0")
    for shipping in raw.get("shipping_lines") or []:
        cost = mapping.money(shipping.get("total"))
        charged += cost
        share = min(left, cost)
        if share <= 0:
            continue
        items.append({"id": shipping["id"], "refund_total": str(share)})
        worth += share + mapping.money(shipping.get("total_tax")) * share / cost
        left -= share
    if left > 0:
        raise ExecutionError(
            f"Shipping refunded ({parts.shipping}) exceeds what was charged ({charged})",
            permanent=True,
        )
    if parts.lines and amount > worth.quantize(CENT):
        raise ExecutionError(
            f"Refund {amount} exceeds the items and shipping it names ({worth.quantize(CENT)})",
            permanent=True,
        )
    named = {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in wanted.items()],
        "shipping": str(parts.shipping),
        "to": "original_payment",
    }
    return items, named
