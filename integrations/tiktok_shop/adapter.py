"""TikTok Shop as a commerce adapter: the mirror first, the Open API when needed.

What TikTok Shop lets a seller do, and how each action lands once:

- refund: a seller-initiated refund-only request (Create Return with
  ``return_type`` REFUND and ``refund_total``). TikTok honours the
  ``idempotency_key`` we send (the proposal's key), and our mirror row under
  the same key answers a replay without calling at all. A bare amount names
  every unit of the order; a refund that names its lines sends only their
  units (``order_line_item_ids``, one id per unit, and ``skus`` with
  ``sku_id`` and ``quantity``). TikTok works out the shipping share itself
  and pays back to the buyer's original payment only, and the request has no
  restock flag, so refunds naming shipping or going to store credit are not
  declared.
- return: Create Return, ``return_type`` RETURN_AND_REFUND, with the same
  idempotency key.
- cancel: Cancel Order has no idempotency key; an order already cancelled, or
  with a cancellation already requested, is the one a previous attempt made.
- Orders are found by their id (the number the buyer sees); a customer's
  orders by the buyer's TikTok user id, since buyer emails are masked and
  cannot be searched. TikTok has no seller address change and no
  replacement order, so those are not declared.

TikTok needs a reason name from its own list for cancellations and returns;
the connection keeps the ones the merchant chose (``cancel_reason``,
``return_reason``), and a reason passed in that looks like one of TikTok's
(``..._reason_...``) wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from integrations.commerce import (
    READS,
    ApiCommerceAdapter,
    Capability,
    CommerceAdapter,
    ExecutionError,
    ExecutionResult,
    LineRequest,
    RefundParts,
    check_refundable,
    record_executed_refund,
)
from integrations.models import Customer, Order
from integrations.tiktok_shop import mapping
from integrations.tiktok_shop.client import TikTokShopClient

OPEN_CANCELLATION = {"CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_SUCCESS"}
CLOSED_RETURN = {"RETURN_OR_REFUND_REQUEST_CANCEL", "REFUND_OR_RETURN_REQUEST_REJECT"}


def _tiktok_reason(given: str, fallback: str, action: str) -> str:
    if "_reason_" in given:
        return given
    if fallback:
        return fallback
    raise ExecutionError(
        f"TikTok Shop needs a {action} reason from its list: set one on the connection",
        permanent=True,
    )


class TikTokShopAdapter(ApiCommerceAdapter[TikTokShopClient]):
    provider = "tiktok_shop"
    capabilities = READS | {
        Capability.REFUND,
        Capability.REFUND_LINES,
        Capability.CANCEL,
        Capability.CREATE_RETURN,
        Capability.WEBHOOKS,
    }
    client_class = TikTokShopClient
    label = "TikTok Shop"

    def _setting(self, key: str) -> str:
        return str((self.connection.credentials if self.connection else {}).get(key, ""))

    # --- reads -----------------------------------------------------------

    def fetch_order(self, number: str) -> Order | None:
        wanted = number.strip().lstrip("#")
        if not wanted.isdigit():
            return None
        order = self.client.order(wanted)
        return self.mirror(order) if order else None

    def orders_for_email(self, email: str, *, limit: int = 5) -> list[Order]:
        # TikTok is asked even when the mirror holds some of the buyer's
        # orders, and its answer wins when it has any.
        found = CommerceAdapter.orders_for_email(self, email, limit=limit)
        if self.connection is None or not email:
            return found
        fetched = [o for o in self.fetch_orders_for_email(email, limit=limit) if o is not None]
        return fetched or found

    def fetch_orders_for_email(self, email: str, *, limit: int) -> Iterable[Order | None]:
        customer = Customer.objects.filter(tenant=self.tenant, email__iexact=email).first()
        if customer is None or not customer.external_id:
            return ()
        remote = self.client.search_orders({"buyer_user_id": customer.external_id}, limit=limit)
        return [self.mirror(o) for o in remote]

    def order_detail(self, order: Order) -> Order:
        remote = self.client.order(self._order_id(order))
        if remote is not None:
            self.mirror(remote)
        return super().order_detail(order)

    def mirror(self, remote: dict) -> Order | None:
        data = mapping.order_from_api(remote)
        return self._apply(data, version_at=mapping.from_unix(remote.get("update_time")))

    def _remote(self, order: Order) -> dict:
        remote = self.client.order(self._order_id(order))
        if remote is None:
            raise ExecutionError(f"TikTok Shop has no order {order.number}", permanent=True)
        return remote

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
        remote = self._remote(order)
        if parts is not None and parts.lines:
            named = _named_units(remote, parts.lines, amount, number=order.number)
        else:
            named = {"order_line_item_ids": [str(i["id"]) for i in remote.get("line_items") or []]}
        body = {
            "order_id": remote["id"],
            **named,
            "return_type": "REFUND",
            "return_reason": _tiktok_reason(note, self._setting("return_reason"), "refund"),
            "currency": order.currency,
            "refund_total": str(amount),
        }
        created = self.client.create_return(body, idempotency_key=idempotency_key)
        external_id = f"return:{created['return_id']}"
        refund = record_executed_refund(
            order, amount, idempotency_key=idempotency_key, external_id=external_id, note=note
        )
        return ExecutionResult(
            refund.external_id,
            {"replayed": False, "status": created.get("return_status"), **said},
        )

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        remote = self._remote(order)
        if remote.get("status") == "CANCELLED":
            self.mirror(remote)
            return ExecutionResult(remote["id"], {"replayed": True})
        for existing in self.client.cancellations(remote["id"]):
            if existing.get("cancel_status") in OPEN_CANCELLATION:
                return ExecutionResult(
                    str(existing.get("cancel_id")),
                    {"replayed": True, "status": existing.get("cancel_status")},
                )
        if remote.get("status") not in {"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"}:
            raise ExecutionError(
                f"TikTok Shop order {order.number} is {remote.get('status')}; "
                "only an order not yet shipped can be cancelled",
                permanent=True,
            )
        created = self.client.cancel_order(
            remote["id"],
            cancel_reason=_tiktok_reason(reason, self._setting("cancel_reason"), "cancel"),
        )
        return ExecutionResult(
            str(created.get("cancel_id")),
            {"replayed": False, "status": created.get("cancel_status")},
        )

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        remote = self._remote(order)
        line_ids: list[str] = []
        for line in lines:
            ids = mapping.line_item_ids_for(remote, line.sku, line.quantity)
            if len(ids) < line.quantity:
                raise ExecutionError(
                    f"{order.number} has fewer than {line.quantity} of {line.sku}", permanent=True
                )
            line_ids.extend(ids)
        reason = next((line.reason for line in lines if line.reason), note)
        created = self.client.create_return(
            {
                "order_id": remote["id"],
                "order_line_item_ids": line_ids,
                "return_type": "RETURN_AND_REFUND",
                "return_reason": _tiktok_reason(reason, self._setting("return_reason"), "return"),
            },
            idempotency_key=idempotency_key,
        )
        return ExecutionResult(str(created["return_id"]), {"status": created.get("return_status")})


def _parts_detail(parts: RefundParts) -> dict:
    """What a refund with parts said it pays for, as every store reports it."""
    return {
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in parts.lines],
        "shipping": str(parts.shipping),
        "to": "store_credit" if parts.to_store_credit else "original_payment",
    }


def _named_units(
    remote: dict, lines: Iterable[LineRequest], amount: Decimal, *, number: str
) -> dict:
    """The units a refund pays for, as Create Return names them: one line item
    id per unit and the SKUs with their quantities. Refuses a SKU the order
    does not hold, more units than it has, or an amount beyond their price."""
    by_id = {str(item["id"]): item for item in remote.get("line_items") or []}
    ids: list[str] = []
    skus: dict[str, int] = {}
    for line in lines:
        picked = [
            i for i in mapping.line_item_ids_for(remote, line.sku, len(by_id)) if i not in ids
        ]
        if not picked:
            raise ExecutionError(f"{line.sku} is not on order {number}", permanent=True)
        if len(picked) < line.quantity:
            raise ExecutionError(
                f"{number} has fewer than {line.quantity} of {line.sku}", permanent=True
            )
        for line_id in picked[: line.quantity]:
            ids.append(line_id)
            sku_id = str(by_id[line_id].get("sku_id") or "")
            skus[sku_id] = skus.get(sku_id, 0) + 1
    worth = sum((mapping.money(by_id[i].get("sale_price")) for i in ids), Decimal("0"))
    if amount > worth:
        raise ExecutionError(
            f"Refund {amount} exceeds the items it names ({worth}); TikTok Shop "
            "refunds shipping only as its own share of the items",
            permanent=True,
        )
    return {
        "order_line_item_ids": ids,
        "skus": [{"sku_id": sku_id, "quantity": quantity} for sku_id, quantity in skus.items()],
    }
