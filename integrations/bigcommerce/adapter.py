"""BigCommerce as a commerce adapter: the mirror first, the REST API when needed.

Idempotency per action. BigCommerce's refund endpoint takes no idempotency
key, so a refund is guarded by our own record: its reason carries a marker
derived from our key, and before creating one we list the order's refunds
(V3 payment actions) and return the one that carries the marker; the
request itself is never resent blind.

A refund that names its parts is quoted and made with V3 refund items:
``PRODUCT`` by order product id with a quantity, ``SHIPPING`` by order
address id with an amount. BigCommerce prices those items itself, so the
refund goes ahead only when its quote equals the approved amount. Store
credit is paid when the quote offers it (the customer has an account);
otherwise the refund goes to the original payment. The refund request has
no restock field: stock follows the store's own inventory settings.

A cancel of a cancelled order and the
same address set twice change nothing. A replacement order carries the
marker in its staff notes and is looked up among the customer's orders
since the original before another is created.

BigCommerce's returns are not in its public API, so this adapter declares
no ``CREATE_RETURN``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from integrations.bigcommerce import mapping
from integrations.bigcommerce.client import BigCommerceClient
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

STORE_CREDIT = "storecredit"
AWAITING_FULFILLMENT = 11


class BigCommerceAdapter(ApiCommerceAdapter[BigCommerceClient]):
    provider = "bigcommerce"
    capabilities = READS | {
        Capability.REFUND,
        Capability.REFUND_LINES,
        Capability.REFUND_SHIPPING,
        Capability.REFUND_TO_STORE_CREDIT,
        Capability.CANCEL,
        Capability.UPDATE_ADDRESS,
        Capability.REPLACEMENT,
        Capability.WEBHOOKS,
    }
    client_class = BigCommerceClient
    label = "BigCommerce"

    # --- reads -----------------------------------------------------------

    def fetch_order(self, number: str) -> Order | None:
        raw = self.client.order(number.strip().lstrip("#"))
        return self.mirror(raw) if raw else None

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterator[Order | None]:
        recent = self.client.orders(email=email, sort="date_created:desc", limit=limit)
        return (self.mirror(raw) for raw in recent)

    def order_detail(self, order: Order) -> Order:
        raw = self.client.order(self._order_id(order))
        if raw is not None:
            self.mirror(raw)
        return super().order_detail(order)

    def mirror(self, raw: dict) -> Order | None:
        """Fetch the order's products, shipments and addresses and apply them all.

        Stamped with the order's ``date_modified``: a read older than what a
        webhook already applied changes nothing."""
        order_id = raw["id"]
        data = mapping.order(
            raw,
            products=self.client.order_products(order_id),
            shipments=self.client.order_shipments(order_id),
            shipping_addresses=self.client.order_shipping_addresses(order_id),
        )
        return self._apply(data, version_at=mapping.parse_time(raw.get("date_modified")))

    # --- actions ---------------------------------------------------------

    def refund(
        self,
        order: Order,
        amount: Decimal,
        *,
        idempotency_key: str,
        note: str,
        parts: RefundParts | None = None,
    ) -> ExecutionResult:
        named_items, named = _refund_items(order, parts) if parts is not None else ([], {})
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
        # ORDER items refund an amount without recalculating tax.
        items = named_items or [
            {
                "item_type": "ORDER",
                "item_id": int(order_id),
                "amount": float(amount),
                "reason": note[:1000],
            }
        ]
        quote = self.client.refund_quote(order_id, items)
        if named_items:
            quoted = mapping.money(quote.get("total_refund_amount"))
            if quoted != amount:
                raise ExecutionError(
                    f"BigCommerce prices the items and shipping named at {quoted}, "
                    f"not the approved {amount}",
                    permanent=True,
                )
        methods = quote.get("refund_methods") or []
        if parts is not None and parts.to_store_credit:
            payments = _store_credit(methods, amount)
        else:
            payments = _original_payment(methods, amount)
        created = self.client.create_refund(
            order_id,
            {
                "items": items,
                "payments": payments,
                "reason": f"{note[:900]} [{tag}]".strip(),
            },
        )
        refund = record_executed_refund(
            order,
            amount,
            idempotency_key=idempotency_key,
            external_id=mapping.refund_id(created["id"]),
            note=note,
        )
        return ExecutionResult(
            refund.external_id, {"replayed": False, "bigcommerce": created, **named}
        )

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        order_id = self._order_id(order)
        raw = self.client.order(order_id)
        if raw is None:
            raise ExecutionError(f"BigCommerce has no order #{order.number}", permanent=True)
        if int(raw.get("status_id") or 0) == mapping.CANCELLED:
            self.mirror(raw)
            return ExecutionResult(order_id, {"replayed": True})
        if int(raw.get("items_shipped") or 0) > 0:
            raise ExecutionError(
                f"Order #{order.number} has shipped items; it can no longer be cancelled",
                permanent=True,
            )
        fields: dict = {"status_id": mapping.CANCELLED}
        if note:
            fields["staff_notes"] = "\n".join(
                p for p in (raw.get("staff_notes") or "", f"Cancelled ({reason}): {note}") if p
            )
        updated = self.client.update_order(order_id, fields)
        self.mirror(updated or raw)
        return ExecutionResult(order_id, {"replayed": False})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        if order.cancelled_at is not None:
            raise ExecutionError(f"Order #{order.number} is cancelled", permanent=True)
        order_id = self._order_id(order)
        addresses = self.client.order_shipping_addresses(order_id)
        if not addresses:
            raise ExecutionError(
                f"Order #{order.number} has no shipping address to change", permanent=True
            )
        current = addresses[0]
        if int(current.get("items_shipped") or 0) > 0:
            raise ExecutionError(
                f"Order #{order.number} has shipped; its address can no longer change",
                permanent=True,
            )
        fields = mapping.address_fields(address.as_dict(), email=current.get("email") or "")
        updated = self.client.update_shipping_address(order_id, current["id"], fields)
        order.shipping_address = mapping.address(updated) or address.as_dict()
        order.save(update_fields=["shipping_address", "updated_at"])
        return ExecutionResult(str(current["id"]), {"shipping_address": order.shipping_address})

    def create_replacement(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        tag = marker(idempotency_key)
        order_id = self._order_id(order)
        original = self.client.order(order_id)
        if original is None:
            raise ExecutionError(f"BigCommerce has no order #{order.number}", permanent=True)
        billing = original.get("billing_address") or {}
        since = original.get("date_created")
        for candidate in self.client.orders(
            email=billing.get("email") or order.email,
            min_date_created=since,
            sort="date_created:desc",
            limit=50,
        ):
            if tag in str(candidate.get("staff_notes") or ""):
                return ExecutionResult(str(candidate["id"]), {"replayed": True})
        products = {str(p["id"]): p for p in self.client.order_products(order_id)}
        by_sku = {str(p.get("sku") or ""): p for p in products.values()}
        items = []
        for line in lines:
            product = by_sku.get(line.sku)
            if product is None:
                raise ExecutionError(f"#{order.number} has no line {line.sku}", permanent=True)
            item = {
                "name": product.get("name") or line.sku,
                "sku": line.sku,
                "quantity": line.quantity,
                # A replacement costs the customer nothing.
                "price_inc_tax": 0,
                "price_ex_tax": 0,
            }
            if product.get("product_id"):
                item = {**item, "product_id": product["product_id"]}
                item.pop("name")
                item.pop("sku")
                if product.get("product_options"):
                    item["product_options"] = [
                        {"id": o["product_option_id"], "value": o["value"]}
                        for o in product["product_options"]
                        if o.get("product_option_id") is not None
                    ]
            items.append(item)
        addresses = self.client.order_shipping_addresses(order_id)
        shipping = [
            {k: v for k, v in a.items() if k in _ADDRESS_KEYS and v not in (None, "")}
            for a in addresses[:1]
        ]
        created = self.client.create_order(
            {
                "customer_id": original.get("customer_id") or 0,
                "status_id": AWAITING_FULFILLMENT,
                "billing_address": {
                    k: v for k, v in billing.items() if k in _ADDRESS_KEYS and v not in (None, "")
                },
                "shipping_addresses": shipping,
                "products": items,
                "staff_notes": f"{note or f'Replacement for #{order.number}'} [{tag}]",
                "customer_message": "",
            }
        )
        return ExecutionResult(str(created.get("id", "")), {"replayed": False})


_ADDRESS_KEYS = {
    "first_name",
    "last_name",
    "company",
    "street_1",
    "street_2",
    "city",
    "state",
    "zip",
    "country",
    "country_iso2",
    "phone",
    "email",
}


def _original_payment(methods: list, amount: Decimal) -> list[dict]:
    """The refund method that returns ``amount`` to the payment that took it.

    BigCommerce quotes refund methods as lists of payment options; the one we
    want is made of online options other than store credit (store credit and
    offline refunds are a specialist's call in the control panel)."""
    for method in methods:
        options = method if isinstance(method, list) else [method]
        options = [o for o in options if isinstance(o, dict)]
        if not options:
            continue
        if any(o.get("offline") or o.get("provider_id") == STORE_CREDIT for o in options):
            continue
        if sum((mapping.money(o.get("amount")) for o in options), Decimal("0")) < amount:
            continue
        payments, left = [], amount
        for option in options:
            share = min(left, mapping.money(option.get("amount")))
            if share > 0:
                payments.append(
                    {"provider_id": option["provider_id"], "amount": float(share), "offline": False}
                )
                left -= share
        return payments
    raise ExecutionError(
        f"BigCommerce offers no online refund of {amount} to the original payment "
        "(only store credit or offline); refund it in the control panel",
        permanent=True,
    )


def _store_credit(methods: list, amount: Decimal) -> list[dict]:
    """The refund method that pays ``amount`` as store credit, when the quote offers one."""
    for method in methods:
        options = method if isinstance(method, list) else [method]
        for option in options:
            if not isinstance(option, dict) or option.get("provider_id") != STORE_CREDIT:
                continue
            if mapping.money(option.get("amount")) >= amount:
                return [{"provider_id": STORE_CREDIT, "amount": float(amount), "offline": False}]
    raise ExecutionError(
        f"BigCommerce offers no store credit of {amount} for this order "
        "(store credit needs a customer account)",
        permanent=True,
    )


def _refund_items(order: Order, parts: RefundParts) -> tuple[list[dict], dict]:
    """The parts as V3 refund items (order product ids, order address ids), and
    what they name for our records. Refuses SKUs the order does not hold, more
    units than it holds and more shipping than its addresses were charged."""
    raw = order.raw or {}
    by_sku = {
        mapping.product_sku(p): p
        for p in raw.get("products") or []
        # A bundle's parts are refunded with the bundle.
        if not p.get("parent_order_product_id")
    }
    wanted: dict[str, int] = {}
    for line in parts.lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    items: list[dict] = []
    for sku, quantity in wanted.items():
        product = by_sku.get(sku)
        if product is None:
            raise ExecutionError(f"#{order.number} has no line {sku}", permanent=True)
        held = int(product.get("quantity") or 0)
        if quantity <= 0 or quantity > held:
            raise ExecutionError(
                f"#{order.number} holds {held} of {sku}, not {quantity}", permanent=True
            )
        items.append({"item_type": "PRODUCT", "item_id": product["id"], "quantity": quantity})
    left = parts.shipping
    charged = Decimal("0")
    for address in raw.get("shipping_addresses") or []:
        cost = mapping.money(address.get("cost_inc_tax"))
        charged += cost
        share = min(left, cost)
        if share <= 0:
            continue
        items.append({"item_type": "SHIPPING", "item_id": address["id"], "amount": float(share)})
        left -= share
    if left > 0:
        raise ExecutionError(
            f"Shipping refunded ({parts.shipping}) exceeds what was charged ({charged})",
            permanent=True,
        )
    named = {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in wanted.items()],
        "shipping": str(parts.shipping),
        "to": "store_credit" if parts.to_store_credit else "original_payment",
    }
    return items, named
