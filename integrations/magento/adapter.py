"""Magento 2 / Adobe Commerce as a commerce adapter: the mirror first, REST when needed.

Idempotency per action. Magento takes no idempotency key on any call, so
every write is guarded by our own record on the store:

- Refund: a credit memo whose comment carries a tag derived from our key.
  Before creating one we list the order's credit memos (``GET
  /V1/creditmemos``) and adopt the tagged one if a previous attempt made it;
  the create itself is never blindly retried after an unknown outcome.
  Orders paid through a gateway are refunded online through their invoice
  (``POST /V1/invoice/{id}/refund``, money back to the original payment);
  offline payment methods get an offline credit memo on the order (``POST
  /V1/order/{id}/refund``). A bare amount is a positive adjustment with
  every line at quantity 0, so no item quantity or stock moves. A refund that
  names its parts credits those lines (``items``: ``order_item_id``, ``qty``)
  and puts them back in stock (``arguments.extension_attributes.
  return_to_stock_items``), credits the shipping (``arguments.
  shipping_amount``, before tax as the order holds it), and a negative
  adjustment brings the credit memo down to the approved amount. The same
  tag guards every shape.
- Cancel: the order is read first; a cancelled order is a replay.
- Address: saving the same address twice changes nothing.
- Return (Adobe Commerce RMA only): an RMA whose comment carries the tag.

Magento has no draft orders reachable by an integration, so replacements
are not offered. Refunds to store credit are not offered either: Adobe
Commerce's "Refund to Store Credit" is a field of the admin's credit memo
form (offline refunds only), and the REST credit memo arguments document no
customer balance field, only ``return_to_stock_items``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from integrations.commerce import (
    READS,
    Address,
    ApiCommerceAdapter,
    Capability,
    ExecutionError,
    ExecutionResult,
    LineRequest,
    RefundParts,
    UnknownOrder,
    apply_refund,
    check_refundable,
    marker,
    record_executed_refund,
)
from integrations.magento import mapping
from integrations.magento.client import MagentoClient, MagentoError
from integrations.models import Order, Refund

# Payment methods Magento cannot refund through a gateway: their credit
# memos are offline, and the merchant pays the money back by hand.
OFFLINE_METHODS = {"checkmo", "banktransfer", "cashondelivery", "purchaseorder", "free"}
NOT_CANCELLABLE = {"complete", "closed", "canceled", "holded", "payment_review"}


def key_tag(idempotency_key: str) -> str:
    """What we write on the store's record so a later attempt can find it."""
    return marker(idempotency_key, length=20)


class MagentoAdapter(ApiCommerceAdapter[MagentoClient]):
    provider = "magento"
    capabilities = READS | {
        Capability.REFUND,
        Capability.REFUND_LINES,
        Capability.REFUND_SHIPPING,
        Capability.CANCEL,
        Capability.UPDATE_ADDRESS,
    }
    client_class = MagentoClient
    label = "Magento"

    # --- reads -----------------------------------------------------------

    def fetch_order(self, number: str) -> Order | None:
        rows = self.client.orders_by_increment_id(number.strip().lstrip("#"))
        return self.mirror_order(rows[0]["entity_id"]) if rows else None

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterator[Order | None]:
        rows = self.client.orders_by_email(email, limit=limit)
        return (self.mirror_order(row["entity_id"], order=row) for row in rows)

    def order_detail(self, order: Order) -> Order:
        self.mirror_order(self._order_id(order))
        return super().order_detail(order)

    def mirror_order(
        self, order_id: str | int, *, order: dict[str, Any] | None = None
    ) -> Order | None:
        """Read the order, its shipments and credit memos from the store and
        mirror them. The store's ``updated_at`` orders the writes, so a read
        older than what a webhook already applied changes nothing."""
        remote = order or self.client.order(order_id)
        data = mapping.order_from_rest(remote, self.client.shipments(order_id))
        applied = self._apply(data, version_at=mapping.parse_time(remote.get("updated_at")))
        if applied is not None and mapping.decimal(remote.get("total_refunded")) > 0:
            for creditmemo in self.client.creditmemos(order_id):
                self.mirror_creditmemo(creditmemo)
        return applied

    def mirror_creditmemo(self, creditmemo: dict[str, Any]) -> Refund | None:
        try:
            return apply_refund(self.connection, mapping.refund_from_creditmemo(creditmemo))
        except UnknownOrder:
            return None

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
        said = _parts_detail(parts) if parts is not None else {}
        if (replayed := self._replayed_refund(order, idempotency_key)) is not None:
            return replayed.with_detail(**said)
        check_refundable(order, amount)
        order_id = self._order_id(order)
        tag = key_tag(idempotency_key)
        for creditmemo in self.client.creditmemos(order_id):
            if any(tag in str(c.get("comment") or "") for c in creditmemo.get("comments") or []):
                adopted = self._adopt_refund(
                    order,
                    mapping.decimal(creditmemo.get("grand_total")),
                    idempotency_key=idempotency_key,
                    external_id=mapping.creditmemo_external_id(creditmemo["entity_id"]),
                    note=note,
                )
                return adopted.with_detail(**said)

        remote = self.client.order(order_id)
        body = {
            "notify": False,
            "appendComment": False,
            "comment": {"comment": f"{note} [{tag}]".strip(), "is_visible_on_front": 0},
            **_creditmemo_lines(remote, amount, parts or RefundParts(), number=order.number),
        }
        method = ((remote.get("payment") or {}).get("method") or "").lower()
        online = method not in OFFLINE_METHODS
        try:
            if online:
                invoice = _invoice_covering(self.client.invoices(order_id), amount)
                creditmemo_id = self.client.refund_invoice(
                    invoice["entity_id"], {**body, "isOnline": True}
                )
            else:
                creditmemo_id = self.client.refund_order(order_id, body)
        except MagentoError as exc:
            raise ExecutionError(
                f"{exc} (refund of {amount} on #{order.number})", permanent=exc.permanent
            ) from exc
        refund = record_executed_refund(
            order,
            amount,
            idempotency_key=idempotency_key,
            external_id=mapping.creditmemo_external_id(creditmemo_id),
            note=note,
        )
        return ExecutionResult(
            refund.external_id,
            {"replayed": False, "creditmemo_id": creditmemo_id, "online": online, **said},
        )

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        order_id = self._order_id(order)
        remote = self.client.order(order_id)
        state = remote.get("state") or ""
        if state == "canceled":
            self.mirror_order(order_id, order=remote)
            return ExecutionResult(order_id, {"replayed": True})
        if state in NOT_CANCELLABLE:
            raise ExecutionError(
                f"Order #{order.number} is {remote.get('status') or state} in Magento and cannot be cancelled",
                permanent=True,
            )
        if not self.client.cancel(order_id):
            raise ExecutionError(
                f"Magento would not cancel #{order.number} (it may be invoiced or shipped)",
                permanent=True,
            )
        self.mirror_order(order_id)
        return ExecutionResult(order_id, {"replayed": False})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        if order.cancelled_at is not None:
            raise ExecutionError(f"Order #{order.number} is cancelled", permanent=True)
        order_id = self._order_id(order)
        remote = self.client.order(order_id)
        shipped = any(mapping.decimal(i.get("qty_shipped")) > 0 for i in remote.get("items") or [])
        if shipped or order.shipments.exclude(shipped_at=None).exists():
            raise ExecutionError(
                f"Order #{order.number} has shipped; its address can no longer change",
                permanent=True,
            )
        current = mapping.shipping_address_entity(remote)
        if not current.get("entity_id"):
            raise ExecutionError(
                f"Order #{order.number} has no shipping address to change (virtual order?)",
                permanent=True,
            )
        saved = self.client.save_order_address(
            order_id, mapping.address_to_magento(current, address.as_dict())
        )
        order.shipping_address = address.as_dict()
        order.save(update_fields=["shipping_address", "updated_at"])
        return ExecutionResult(
            str(saved.get("entity_id") or current["entity_id"]),
            {"shipping_address": address.as_dict()},
        )


class AdobeCommerceAdapter(MagentoAdapter):
    """Adobe Commerce adds returns (RMA, ``Magento_Rma``) and events through
    Adobe I/O Events to what Magento Open Source offers."""

    provider = "adobe_commerce"
    capabilities = MagentoAdapter.capabilities | {Capability.CREATE_RETURN, Capability.WEBHOOKS}

    # Labels preferred for the RMA item attributes, whose values are
    # store-defined option ids looked up from the store.
    PREFERRED = {
        "resolution": ("refund", "exchange"),
        "condition": ("opened", "unopened"),
        "reason": ("other", "wrong size", "out of service"),
    }

    def _option(self, attribute: str, wanted: str = "") -> str:
        options = [
            o
            for o in self.client.return_attribute_options(attribute)
            if str(o.get("value", "")) != ""
        ]
        if not options:
            raise ExecutionError(f"The store defines no RMA {attribute} options", permanent=True)
        labels = {str(o.get("label", "")).strip().lower(): str(o["value"]) for o in options}
        for label in (wanted.lower(), *self.PREFERRED.get(attribute, ())):
            if label and label in labels:
                return labels[label]
        return str(options[0]["value"])

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        order_id = self._order_id(order)
        tag = key_tag(idempotency_key)
        for existing in self.client.returns(order_id):
            if any(tag in str(c.get("comment") or "") for c in existing.get("comments") or []):
                return ExecutionResult(
                    str(existing.get("entity_id")),
                    {"replayed": True, "increment_id": existing.get("increment_id")},
                )
        remote = self.client.order(order_id)
        by_sku = {i.get("sku"): i for i in mapping.visible_items(remote)}
        resolution, condition = self._option("resolution"), self._option("condition")
        items = []
        for line in lines:
            item = by_sku.get(line.sku)
            if item is None or mapping.decimal(item.get("qty_shipped")) <= 0:
                raise ExecutionError(
                    f"{line.sku} on #{order.number} has not been shipped, so it cannot be returned",
                    permanent=True,
                )
            items.append(
                {
                    "order_item_id": item["item_id"],
                    "qty_requested": line.quantity,
                    "resolution": resolution,
                    "condition": condition,
                    "reason": self._option("reason", line.reason),
                    "status": "pending",
                }
            )
        rma = {
            "order_id": remote["entity_id"],
            "order_increment_id": remote["increment_id"],
            "store_id": remote.get("store_id"),
            "customer_id": remote.get("customer_id"),
            "status": "pending",
            "items": items,
            "comments": [
                {
                    "comment": f"{note} [{tag}]".strip(),
                    "is_visible_on_front": False,
                    "is_admin": True,
                }
            ],
        }
        created = self.client.create_return(rma)
        return ExecutionResult(
            str(created.get("entity_id")),
            {"replayed": False, "increment_id": created.get("increment_id")},
        )


def _invoice_covering(invoices: list[dict[str, Any]], amount: Decimal) -> dict[str, Any]:
    """The paid invoice an online refund goes back through."""
    paid = [i for i in invoices if i.get("state") in (2, "2")]
    for invoice in sorted(paid, key=lambda i: mapping.decimal(i.get("grand_total")), reverse=True):
        if mapping.decimal(invoice.get("grand_total")) >= amount:
            return invoice
    if not paid:
        raise ExecutionError("The order has no paid invoice to refund", permanent=True)
    raise ExecutionError(
        f"No single invoice on the order covers {amount}; refund it in the Magento admin",
        permanent=True,
    )


def _parts_detail(parts: RefundParts) -> dict[str, Any]:
    """What a refund with parts said it pays for, as every store reports it."""
    return {
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in parts.lines],
        "shipping": str(parts.shipping),
        "to": "store_credit" if parts.to_store_credit else "original_payment",
    }


def _unit_worth(item: dict[str, Any]) -> Decimal:
    """What Magento credits for one unit of an order item: its share of the
    row after discount, with the item's tax, as the credit memo totals do."""
    ordered = mapping.decimal(item.get("qty_ordered")) or Decimal("1")
    row = item.get("row_total")
    row = mapping.decimal(row) if row is not None else mapping.decimal(item.get("price")) * ordered
    gross = (
        row
        + mapping.decimal(item.get("tax_amount"))
        + mapping.decimal(item.get("discount_tax_compensation_amount"))
        - mapping.decimal(item.get("discount_amount"))
    )
    return gross / ordered


def _creditmemo_lines(
    remote: dict[str, Any], amount: Decimal, parts: RefundParts, *, number: str
) -> dict[str, Any]:
    """The credit memo's ``items`` and ``arguments`` for ``amount``.

    Every visible line is named: Magento credits all remaining quantities
    when none is, so lines the refund does not pay for go at quantity 0.
    Named lines are restocked. Magento adds the lines' and the shipping's
    tax on top of what we send, so the difference between that and the
    approved amount is an adjustment, and a refund worth more than the
    parts it names is refused rather than topped up."""
    items = mapping.visible_items(remote)
    wanted: dict[Any, int] = {}
    for line in parts.lines:
        if not any(item.get("sku") == line.sku for item in items):
            raise ExecutionError(f"{line.sku} is not on order #{number}", permanent=True)
        left = line.quantity
        for item in items:
            if item.get("sku") != line.sku or left <= 0:
                continue
            invoiced = item.get("qty_invoiced", item.get("qty_ordered"))
            open_qty = int(
                mapping.decimal(invoiced)
                - mapping.decimal(item.get("qty_refunded"))
                - wanted.get(item["item_id"], 0)
            )
            take = min(left, max(open_qty, 0))
            if take:
                wanted[item["item_id"]] = wanted.get(item["item_id"], 0) + take
                left -= take
        if left:
            raise ExecutionError(
                f"Order #{number} has fewer than {line.quantity} of {line.sku} left to refund",
                permanent=True,
            )

    shipping_left = mapping.decimal(remote.get("shipping_amount")) - mapping.decimal(
        remote.get("shipping_refunded")
    )
    if parts.shipping > shipping_left:
        raise ExecutionError(
            f"Shipping refunded ({parts.shipping}) exceeds what is left of the shipping "
            f"charged on #{number} ({shipping_left})",
            permanent=True,
        )
    shipping_tax_rate = (
        mapping.decimal(remote.get("shipping_tax_amount"))
        / mapping.decimal(remote["shipping_amount"])
        if mapping.decimal(remote.get("shipping_amount"))
        else Decimal("0")
    )
    by_id = {item["item_id"]: item for item in items}
    worth = sum((_unit_worth(by_id[i]) * qty for i, qty in wanted.items()), Decimal("0"))
    worth = (worth + parts.shipping * (1 + shipping_tax_rate)).quantize(Decimal("0.01"))
    if wanted and amount > worth:
        raise ExecutionError(
            f"Refund {amount} exceeds the items and shipping it names ({worth})", permanent=True
        )
    return {
        "items": [
            {"order_item_id": item["item_id"], "qty": wanted.get(item["item_id"], 0)}
            for item in items
        ],
        "arguments": {
            "shipping_amount": float(parts.shipping),
            "adjustment_positive": float(max(amount - worth, Decimal("0"))),
            "adjustment_negative": float(max(worth - amount, Decimal("0"))),
            "extension_attributes": {"return_to_stock_items": list(wanted)},
        },
    }
