"""Shopify as a commerce adapter: the mirror first, the Admin GraphQL API when needed.

A refund may name what it pays back (``RefundParts``), all in one ``refundCreate``:
the items as ``refundLineItems`` found by SKU among the order's line items and
restocked (``CANCEL`` while enough of the line is unfulfilled, ``RETURN`` once it
has shipped; no ``locationId``, which Shopify takes as optional), the shipping as
``shipping.amount``, and store credit instead of the card as a ``storeCreditRefund``
in ``refundMethods`` (in ``RefundInput`` of the 2026-07 version the client pins;
Shopify wants a customer on the order and new customer accounts on the shop).
The amount is not checked against the lines'
prices here: the mirror keeps prices before tax, and Shopify refuses a refund the
order cannot take.

Idempotency per action: refunds, whatever they name, carry Shopify's
``@idempotent`` key (and our mirror row under the same key); a cancel of a cancelled order and the same
address set twice change nothing; a return is not created again when an open
return already covers the lines; a replacement draft order is tagged with
the key and looked up before creating another; store credit is recorded in
the mirror under the key before Shopify is asked, so it is never asked twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from integrations.commerce import (
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
from integrations.models import Connection, Order, StoreCredit
from integrations.shopify import mapping
from integrations.shopify.client import ShopifyClient

CANCEL_REASONS = {"customer", "declined", "fraud", "inventory", "staff", "other"}
RETURN_REASON_NOTE_MAX = 255


class ShopifyAdapter(ApiCommerceAdapter[ShopifyClient]):
    provider = Connection.Provider.SHOPIFY
    capabilities = frozenset(Capability)
    client_class = ShopifyClient
    label = "Shopify"

    def _order_gid(self, order: Order) -> str:
        return mapping.gid("Order", self._order_id(order))

    # --- reads -----------------------------------------------------------

    def fetch_order(self, number: str) -> Order | None:
        node = self.client.order_by_name(number.lstrip("#"))
        return self._mirror_node(node) if node else None

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterator[Order | None]:
        return (self._mirror_node(n) for n in self.client.orders_by_email(email, limit=limit))

    def order_detail(self, order: Order) -> Order:
        node = self.client.order(self._order_gid(order))
        if node is not None:
            self._mirror_node(node)
        return super().order_detail(order)

    def _mirror_node(self, node: dict) -> Order | None:
        data = mapping.order_from_graphql(node)
        return self._apply(data, version_at=mapping.parse_time(node.get("updatedAt")))

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
        asked = _parts_detail(parts) if parts is not None else {}
        if (replayed := self._replayed_refund(order, idempotency_key)) is not None:
            return replayed.with_detail(**asked)
        check_refundable(order, amount)
        parts = parts or RefundParts()
        if parts.shipping > order.shipping_total:
            raise ExecutionError(
                f"Shipping refunded ({parts.shipping}) exceeds what was charged "
                f"({order.shipping_total})",
                permanent=True,
            )
        order_gid = self._order_gid(order)
        refund_line_items = self._refund_line_items(order, parts.lines) if parts.lines else None
        if parts.to_store_credit:
            # Money goes to the customer's store credit: no payment to name.
            parent = None
        else:
            parent = _parent_transaction(self.client.order_transactions(order_gid), amount)
        created = self.client.refund_create(
            order_gid,
            amount,
            parent_transaction=parent,
            idempotency_key=idempotency_key,
            note=note,
            refund_line_items=refund_line_items,
            shipping=parts.shipping,
            store_credit_currency=order.currency if parts.to_store_credit else "",
        )
        refund = record_executed_refund(
            order, amount, idempotency_key=idempotency_key, external_id=created["id"], note=note
        )
        return ExecutionResult(refund.external_id, {"replayed": False, "shopify": created, **asked})

    def _refund_line_items(self, order: Order, lines: tuple[LineRequest, ...]) -> list[dict]:
        """Our SKUs as the order's Shopify line items, each with how it is restocked."""
        wanted = _quantities_by_sku(lines)
        items = mapping.line_items(order.raw or {})
        if not set(wanted) <= {item.sku for item in items}:
            # The mirror may predate a line, or have been made without Shopify's ids.
            node = self.client.order(self._order_gid(order))
            if node is not None:
                self._mirror_node(node)
                items = mapping.line_items(node)
        found = []
        for sku, quantity in wanted.items():
            candidates = [item for item in items if item.sku == sku]
            if not candidates:
                raise ExecutionError(f"#{order.number} has no line {sku}", permanent=True)
            item = next((c for c in candidates if c.quantity >= quantity), None)
            if item is None:
                held = max(c.quantity for c in candidates)
                raise ExecutionError(
                    f"#{order.number} holds {held} of {sku}, not {quantity}", permanent=True
                )
            found.append(
                {
                    "lineItemId": item.gid,
                    "quantity": quantity,
                    # Units that never left go back as a cancel; shipped ones as a return.
                    "restockType": "CANCEL" if quantity <= item.unfulfilled else "RETURN",
                }
            )
        return found

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        reason = reason.lower() if reason.lower() in CANCEL_REASONS else "other"
        node = self.client.order(self._order_gid(order))
        if node is None:
            raise ExecutionError(f"Shopify has no order #{order.number}", permanent=True)
        if node.get("cancelledAt"):
            self._mirror_node(node)
            return ExecutionResult(node["id"], {"replayed": True})
        payload = self.client.order_cancel(node["id"], reason=reason.upper(), staff_note=note)
        return ExecutionResult(node["id"], {"replayed": False, "job": payload.get("job")})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        if order.cancelled_at is not None:
            raise ExecutionError(f"Order #{order.number} is cancelled", permanent=True)
        if order.shipments.exclude(shipped_at=None).exists():
            raise ExecutionError(
                f"Order #{order.number} has shipped; its address can no longer change",
                permanent=True,
            )
        updated = self.client.order_update_shipping_address(
            self._order_gid(order), mapping.address_input(address.as_dict())
        )
        order.shipping_address = address.as_dict()
        order.save(update_fields=["shipping_address", "updated_at"])
        return ExecutionResult(updated["id"], {"shipping_address": address.as_dict()})

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        order_gid = self._order_gid(order)
        node = self.client.order(order_gid)
        if node is None:
            raise ExecutionError(f"Shopify has no order #{order.number}", permanent=True)
        by_sku = mapping.fulfillment_line_items(node)
        wanted: list[dict] = []
        for line in lines:
            candidates = by_sku.get(line.sku)
            if not candidates:
                raise ExecutionError(
                    f"{line.sku} on #{order.number} has not been fulfilled, so it cannot be returned",
                    permanent=True,
                )
            wanted.append(
                {
                    "fulfillmentLineItemId": candidates[0][0],
                    "quantity": line.quantity,
                    "returnReasonNote": (line.reason or note)[:RETURN_REASON_NOTE_MAX],
                }
            )
        # returnCreate has no idempotency key: an open return that already
        # covers these fulfilment lines is the one a previous attempt made.
        wanted_ids = {w["fulfillmentLineItemId"] for w in wanted}
        for existing in self.client.order_returns(order_gid):
            if existing.get("status") not in {"REQUESTED", "OPEN"}:
                continue
            covered = {
                (n.get("fulfillmentLineItem") or {}).get("id")
                for n in (existing.get("returnLineItems") or {}).get("nodes") or []
            }
            if wanted_ids <= covered:
                return ExecutionResult(
                    existing["id"], {"replayed": True, "name": existing.get("name")}
                )
        created = self.client.return_create(order_gid, wanted)
        return ExecutionResult(created["id"], {"replayed": False, "name": created.get("name")})

    def create_replacement(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        # The tag is our idempotency key for draftOrderCreate, which has none.
        tag = marker(idempotency_key)
        for existing in self.client.draft_orders_tagged(tag):
            return ExecutionResult(existing["id"], {"replayed": True, "name": existing.get("name")})
        by_sku = {line.sku: line for line in order.lines.all()}
        items = []
        for line in lines:
            original = by_sku.get(line.sku)
            if original is None:
                raise ExecutionError(f"#{order.number} has no line {line.sku}", permanent=True)
            items.append(
                {
                    "title": original.title,
                    "sku": original.sku,
                    "quantity": line.quantity,
                    "originalUnitPrice": str(original.unit_price),
                }
            )
        draft = {
            "email": order.email,
            "note": (note or f"Replacement for #{order.number}")[:255],
            "tags": [tag, "replacement"],
            "lineItems": items,
            "shippingAddress": mapping.address_input(order.shipping_address or {}),
            # A replacement costs the customer nothing.
            "appliedDiscount": {
                "title": "Replacement",
                "valueType": "PERCENTAGE",
                "value": 100.0,
            },
        }
        created = self.client.draft_order_create(draft)
        return ExecutionResult(created["id"], {"replayed": False, "name": created.get("name")})

    def store_credit(
        self, order: Order, amount: Decimal, *, idempotency_key: str, note: str
    ) -> ExecutionResult:
        earlier = StoreCredit.objects.filter(
            tenant=order.tenant, idempotency_key=idempotency_key
        ).first()
        if earlier is not None and earlier.status == StoreCredit.Status.ISSUED:
            return ExecutionResult(earlier.external_id, {"replayed": True})
        if earlier is not None:
            # storeCreditAccountCredit has no idempotency key: an attempt whose answer
            # was lost may have credited the customer, and asking again could do it twice.
            raise ExecutionError(
                f"An earlier attempt to credit {earlier.amount} {earlier.currency} got no "
                "answer from Shopify; check the customer's store credit in the Shopify admin",
                permanent=True,
            )
        customer = order.customer
        if customer is None or not customer.external_id:
            raise ExecutionError(
                f"Order #{order.number} has no Shopify customer to credit", permanent=True
            )
        row = StoreCredit.objects.create(
            tenant=order.tenant,
            order=order,
            customer=customer,
            amount=amount,
            currency=order.currency,
            idempotency_key=idempotency_key,
            note=note[:255],
        )
        try:
            credited = self.client.store_credit_account_credit(
                mapping.gid("Customer", mapping.legacy_id(customer.external_id)),
                amount,
                order.currency,
            )
        except ExecutionError as exc:
            if exc.permanent:
                # Shopify refused: nothing was credited, a later attempt may ask again.
                row.delete()
            raise
        row.status = StoreCredit.Status.ISSUED
        row.external_id = str(credited.get("id", ""))[:128]
        row.raw = credited
        row.save(update_fields=["status", "external_id", "raw", "updated_at"])
        return ExecutionResult(row.external_id, {"replayed": False, "shopify": credited})


def _parts_detail(parts: RefundParts) -> dict:
    """What the refund was asked to pay for, in the shape every store reports it."""
    return {
        "lines": [
            {"sku": sku, "quantity": quantity}
            for sku, quantity in _quantities_by_sku(parts.lines).items()
        ],
        "shipping": str(parts.shipping),
        "to": "store_credit" if parts.to_store_credit else "original_payment",
    }


def _quantities_by_sku(lines: tuple[LineRequest, ...]) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return wanted


def _parent_transaction(transactions: list[dict], amount: Decimal) -> dict:
    """The captured payment a refund goes back to: Shopify needs it named."""
    paid = [
        t
        for t in transactions
        if t.get("kind") in {"SALE", "CAPTURE"} and t.get("status") == "SUCCESS"
    ]
    for transaction in sorted(
        paid, key=lambda t: mapping.gql_money(t.get("amountSet")), reverse=True
    ):
        if mapping.gql_money(transaction.get("amountSet")) >= amount:
            return transaction
    if not paid:
        raise ExecutionError("The order has no captured payment to refund", permanent=True)
    raise ExecutionError(
        f"No single payment on the order covers {amount}; refund it in the Shopify admin",
        permanent=True,
    )
