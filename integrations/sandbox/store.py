"""The sandbox store: orders live in our database and actions are recorded here.

It behaves like a real platform where it matters: it refuses a refund above
the order's refundable remainder, a cancellation or an address change after
the order shipped, and a return of more than was delivered; a repeated
idempotency key returns the first result instead of acting twice (as
Shopify's @idempotent does). Returns come with a prepaid label; replacements
are zero-priced orders for the same items, linked to the original; store
credit is recorded on the order's customer.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from integrations.commerce import (
    Address,
    Capability,
    CommerceAdapter,
    ExecutionError,
    ExecutionResult,
    LineRequest,
    RefundParts,
)
from integrations.models import Connection, Order, OrderLine, Refund, Return, StoreCredit

# Shopify's and WooCommerce's words for an order that has (partly) left the warehouse.
SHIPPED_FULFILLMENT_STATUSES = {"fulfilled", "partial", "partially_fulfilled", "shipped"}


class SandboxStore(CommerceAdapter):
    provider = Connection.Provider.SANDBOX
    capabilities = frozenset(
        {
            Capability.FIND_ORDER,
            Capability.LIST_ORDERS,
            Capability.ORDER_DETAIL,
            Capability.REFUND,
            Capability.REFUND_LINES,
            Capability.REFUND_SHIPPING,
            Capability.REFUND_TO_STORE_CREDIT,
            Capability.CANCEL,
            Capability.UPDATE_ADDRESS,
            Capability.CREATE_RETURN,
            Capability.REPLACEMENT,
            Capability.STORE_CREDIT,
        }
    )

    def _mirror(self):
        # Sandbox orders usually have no connection row at all.
        return Order.objects.filter(tenant=self.tenant)

    def refund(
        self,
        order: Order,
        amount: Decimal,
        *,
        idempotency_key: str,
        note: str,
        parts: RefundParts | None = None,
    ) -> ExecutionResult:
        if parts is None:
            return refund(order, amount, idempotency_key=idempotency_key, note=note)
        detail = _refund_parts_detail(order, amount, parts)
        if parts.to_store_credit:
            result = store_credit(order, amount, idempotency_key=idempotency_key, note=note)
        else:
            result = refund(order, amount, idempotency_key=idempotency_key, note=note)
        return result.with_detail(**detail)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.cancelled_at is not None:
                return ExecutionResult(str(locked.public_id), {"replayed": True})
            if has_shipped(locked):
                raise ExecutionError(
                    f"Order #{locked.number} has shipped and can no longer be cancelled",
                    permanent=True,
                )
            locked.cancelled_at = timezone.now()
            locked.save(update_fields=["cancelled_at", "updated_at"])
        return ExecutionResult(str(locked.public_id), {"replayed": False, "reason": reason})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if has_shipped(locked):
                raise ExecutionError(
                    f"Order #{locked.number} has shipped; its address can no longer change",
                    permanent=True,
                )
            if locked.cancelled_at is not None:
                raise ExecutionError(f"Order #{locked.number} is cancelled", permanent=True)
            # Setting the same address twice is the same as once.
            locked.shipping_address = address.as_dict()
            locked.save(update_fields=["shipping_address", "updated_at"])
        return ExecutionResult(str(locked.public_id), {"shipping_address": address.as_dict()})

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        return create_return(order, lines, idempotency_key=idempotency_key, note=note)

    def create_replacement(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        return create_replacement(order, lines, idempotency_key=idempotency_key, note=note)

    def store_credit(
        self, order: Order, amount: Decimal, *, idempotency_key: str, note: str
    ) -> ExecutionResult:
        return store_credit(order, amount, idempotency_key=idempotency_key, note=note)


def has_shipped(order: Order) -> bool:
    """Whether any of the order has left the warehouse, by the store's word or a shipment.

    Either is enough: a store may mark an order fulfilled before the first scan,
    and a carrier may scan a parcel before the store catches up. A label alone
    counts too: the parcel is packed, and stopping it is a warehouse intercept."""
    if order.fulfillment_status.lower() in SHIPPED_FULFILLMENT_STATUSES:
        return True
    return order.shipments.exists()


def refund(order: Order, amount: Decimal, *, idempotency_key: str, note: str) -> ExecutionResult:
    with transaction.atomic():
        # Lock the order so two refunds cannot both pass the remainder check.
        locked = Order.objects.select_for_update().get(pk=order.pk)
        existing = Refund.objects.filter(tenant=locked.tenant, idempotency_key=idempotency_key)
        if (first := existing.first()) is not None:
            return ExecutionResult(first.external_id or str(first.public_id), {"replayed": True})
        if amount > locked.refundable_remainder:
            raise ExecutionError(
                f"Refund {amount} exceeds the refundable remainder {locked.refundable_remainder}",
                permanent=True,
            )
        created = Refund.objects.create(
            tenant=locked.tenant,
            order=locked,
            amount=amount,
            currency=locked.currency,
            idempotency_key=idempotency_key,
            note=note[:255],
        )
        created.external_id = f"sandbox-refund-{created.pk}"
        created.save(update_fields=["external_id"])
    return ExecutionResult(created.external_id, {"replayed": False})


def _refund_parts_detail(order: Order, amount: Decimal, parts: RefundParts) -> dict:
    """What the refund pays for, checked against the order: SKUs it holds, no more
    shipping than was charged, items and shipping worth at least the amount."""
    lines = _picked_lines(order, list(parts.lines), already={}) if parts.lines else []
    if parts.shipping > order.shipping_total:
        raise ExecutionError(
            f"Shipping refunded ({parts.shipping}) exceeds what was charged "
            f"({order.shipping_total})",
            permanent=True,
        )
    if lines:
        price = {line.sku: line.unit_price for line in order.lines.all()}
        worth = sum(price[li["sku"]] * li["quantity"] for li in lines)
        if amount > worth + parts.shipping:
            raise ExecutionError(
                f"Refund {amount} exceeds the items and shipping it names "
                f"({worth + parts.shipping})",
                permanent=True,
            )
    return {
        "lines": [{"sku": li["sku"], "quantity": li["quantity"]} for li in lines],
        "shipping": str(parts.shipping),
        "to": "store_credit" if parts.to_store_credit else "original_payment",
    }


def _picked_lines(order: Order, lines: list[LineRequest], *, already: dict[str, int]) -> list[dict]:
    """The requested lines as the order has them; refuses a SKU the order does not
    hold or more units than it holds (less what earlier requests already took)."""
    by_sku: dict[str, OrderLine] = {}
    for line in order.lines.all():
        by_sku.setdefault(line.sku, line)
    held = {sku: sum(li.quantity for li in order.lines.all() if li.sku == sku) for sku in by_sku}
    picked: dict[str, dict] = {}
    for request in lines:
        line = by_sku.get(request.sku)
        if line is None:
            raise ExecutionError(f"{request.sku} is not on order #{order.number}", permanent=True)
        if request.quantity < 1:
            raise ExecutionError(f"{request.sku}: quantity must be at least 1", permanent=True)
        entry = picked.setdefault(
            line.sku,
            {"sku": line.sku, "title": line.title, "quantity": 0, "reason": request.reason[:64]},
        )
        entry["quantity"] += request.quantity
    for sku, entry in picked.items():
        left = held[sku] - already.get(sku, 0)
        if entry["quantity"] > left:
            raise ExecutionError(
                f"{sku}: {entry['quantity']} asked, {left} left on order #{order.number}",
                permanent=True,
            )
    return list(picked.values())


def _not_returnable(order: Order, what: str) -> None:
    if order.cancelled_at is not None:
        raise ExecutionError(f"Order #{order.number} is cancelled", permanent=True)
    if not has_shipped(order):
        raise ExecutionError(
            f"Order #{order.number} has not shipped yet; cancel it instead of a {what}",
            permanent=True,
        )


def _label_number(idempotency_key: str) -> str:
    # Stable per key, so a label printed from a first attempt stays valid.
    return "SBXR" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16].upper()


def create_return(
    order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
) -> ExecutionResult:
    with transaction.atomic():
        # The order lock serialises returns of one order, so two requests cannot
        # both take the last unit, and the same key cannot open two returns.
        locked = Order.objects.select_for_update().get(pk=order.pk)
        first = Return.objects.filter(tenant=locked.tenant, idempotency_key=idempotency_key).first()
        if first is not None:
            return _return_result(first, replayed=True)
        _not_returnable(locked, "return")
        already: dict[str, int] = {}
        for earlier in locked.returns.exclude(status=Return.Status.CANCELLED):
            for line in earlier.lines:
                already[line["sku"]] = already.get(line["sku"], 0) + int(line["quantity"])
        picked = _picked_lines(locked, lines, already=already)
        tracking = _label_number(idempotency_key)
        created = Return.objects.create(
            tenant=locked.tenant,
            order=locked,
            lines=picked,
            label_carrier="sandbox",
            label_tracking_number=tracking,
            # A reserved domain: the sandbox prints no real labels.
            label_url=f"https://labels.sandbox.invalid/{tracking}.pdf",
            idempotency_key=idempotency_key,
            note=note[:255],
            raw={"lines": picked, "note": note[:255]},
        )
        created.external_id = f"sandbox-return-{created.pk}"
        created.save(update_fields=["external_id"])
    return _return_result(created, replayed=False)


def _return_result(row: Return, *, replayed: bool) -> ExecutionResult:
    return ExecutionResult(
        row.external_id,
        {
            "replayed": replayed,
            "return": str(row.public_id),
            "label_tracking_number": row.label_tracking_number,
            "label_url": row.label_url,
            "lines": row.lines,
        },
    )


def create_replacement(
    order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
) -> ExecutionResult:
    """A zero-priced order for the same items, shipped like any other order.

    The replacement carries the original's number and the idempotency key in
    ``raw``; the original's row lock makes the key check and the insert atomic."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        replacements = Order.objects.filter(
            tenant=locked.tenant, raw__replacement_of=str(locked.public_id)
        )
        first = replacements.filter(raw__idempotency_key=idempotency_key).first()
        if first is not None:
            return _replacement_result(first, locked, replayed=True)
        _not_returnable(locked, "replacement")
        picked = _picked_lines(locked, lines, already={})
        titles = {line.sku: line for line in locked.lines.all()}
        number = f"{locked.number[:26]}-R{replacements.count() + 1}"
        created = Order.objects.create(
            tenant=locked.tenant,
            connection=locked.connection,
            customer=locked.customer,
            number=number,
            email=locked.email,
            currency=locked.currency,
            subtotal=Decimal("0"),
            total=Decimal("0"),
            financial_status="paid",
            fulfillment_status="",
            sales_channel=locked.sales_channel,
            shipping_address=locked.shipping_address,
            placed_at=timezone.now(),
            raw={
                "replacement_of": str(locked.public_id),
                "replacement_of_number": locked.number,
                "idempotency_key": idempotency_key,
                "lines": picked,
                "note": note[:255],
            },
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                order=created,
                sku=item["sku"],
                title=item["title"],
                product_type=titles[item["sku"]].product_type,
                quantity=item["quantity"],
                unit_price=Decimal("0"),
                # A problem with a replacement goes to a human: the policy
                # refuses final-sale lines.
                is_final_sale=True,
            )
            for item in picked
        )
    return _replacement_result(created, locked, replayed=False)


def _replacement_result(created: Order, original: Order, *, replayed: bool) -> ExecutionResult:
    return ExecutionResult(
        f"sandbox-order-{created.pk}",
        {
            "replayed": replayed,
            "order": created.number,
            "replacement_of": original.number,
            "lines": created.raw.get("lines", []),
        },
    )


def store_credit(
    order: Order, amount: Decimal, *, idempotency_key: str, note: str
) -> ExecutionResult:
    """Credit the order's customer, like an account credit on a real store: it
    needs a customer to own the account and happens once per key."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        first = StoreCredit.objects.filter(
            tenant=locked.tenant, idempotency_key=idempotency_key
        ).first()
        if first is not None:
            return _credit_result(first, replayed=True)
        if locked.customer_id is None:
            raise ExecutionError(
                f"Order #{locked.number} has no customer account to credit", permanent=True
            )
        created = StoreCredit.objects.create(
            tenant=locked.tenant,
            order=locked,
            customer_id=locked.customer_id,
            amount=amount,
            currency=locked.currency,
            status=StoreCredit.Status.ISSUED,
            idempotency_key=idempotency_key,
            note=note[:255],
        )
        created.external_id = f"sandbox-credit-{created.pk}"
        created.save(update_fields=["external_id"])
    return _credit_result(created, replayed=False)


def _credit_result(row: StoreCredit, *, replayed: bool) -> ExecutionResult:
    return ExecutionResult(
        row.external_id,
        {"replayed": replayed, "amount": f"{row.amount:.2f}", "currency": row.currency},
    )
