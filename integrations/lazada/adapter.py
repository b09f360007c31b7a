"""Lazada as a commerce adapter: the mirror first, the Open Platform when needed.

Lazada lets a seller read orders and cancel items not yet shipped. Returns
and refunds are reverse orders the buyer opens and the seller only answers
(agree / refuse), address changes are the buyer's, and buyer emails are
masked, so refunds, returns, replacements, address changes and look-up by
email are not declared.

Idempotency: Lazada's cancel takes no key, so a cancel first reads the
order's items; when every item is already cancelled that is the effect of
an earlier attempt and is answered as a replay without calling again, and
only the items still cancellable are sent.
"""

from __future__ import annotations

from integrations.commerce import (
    ApiCommerceAdapter,
    Capability,
    ExecutionError,
    ExecutionResult,
)
from integrations.lazada import mapping
from integrations.lazada.client import LazadaClient
from integrations.models import Order

# Our reason words → the names Lazada gives its seller cancellation reasons.
REASON_NAMES = {
    "out_of_stock": "out of stock",
    "inventory": "out of stock",
    "pricing": "pricing",
    "customer": "customer",
}


class LazadaAdapter(ApiCommerceAdapter[LazadaClient]):
    provider = "lazada"
    capabilities = frozenset(
        {Capability.FIND_ORDER, Capability.ORDER_DETAIL, Capability.CANCEL, Capability.WEBHOOKS}
    )

    client_class = LazadaClient
    label = "Lazada"

    def fetch_order(self, number: str) -> Order | None:
        wanted = number.strip().lstrip("#")
        if not wanted.isdigit():
            return None
        remote = self.read(wanted)
        return self.mirror(*remote) if remote else None

    def order_detail(self, order: Order) -> Order:
        remote = self.read(order.external_id or order.number)
        if remote is not None:
            self.mirror(*remote)
        return super().order_detail(order)

    def read(self, order_id: str) -> tuple[dict, list[dict]] | None:
        """The order and its items, or None when Lazada does not know it."""
        order = self.client.order(order_id)
        if not order:
            return None
        return order, self.client.order_items(str(order.get("order_id") or order_id))

    def mirror(self, order: dict, items: list[dict], *, version_at=None) -> Order | None:
        data = mapping.order_from_api(order, items)
        stamp = version_at or mapping.parse_time(order.get("updated_at"))
        return self._apply(data, version_at=stamp)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        order_id = order.external_id or order.number
        remote = self.read(order_id)
        if remote is None:
            raise ExecutionError(f"Lazada has no order {order_id}", permanent=True)
        _, items = remote
        statuses = {str(i.get("status")) for i in items}
        if items and statuses <= mapping.CANCELLED:
            return ExecutionResult(order_id, {"replayed": True, "status": "canceled"})
        open_items = [
            str(i["order_item_id"]) for i in items if i.get("status") in mapping.CANCELLABLE
        ]
        if not open_items:
            raise ExecutionError(
                f"Lazada order {order_id} is {', '.join(sorted(statuses))}; only items not yet "
                "shipped can be cancelled",
                permanent=True,
            )
        options = self.client.cancel_reasons(order_id, open_items)
        reason_id = _pick_reason(options, reason)
        if reason_id is None:
            raise ExecutionError(
                f"Lazada offers no cancellation reason for order {order_id}", permanent=True
            )
        answer = self.client.cancel(order_id, open_items, reason_id)
        return ExecutionResult(
            order_id,
            {"replayed": False, "items": open_items, "reason_id": reason_id, "tip": answer},
        )


def _pick_reason(options: list[dict], reason: str) -> str | None:
    """The country's reason id whose name matches ours, else the first offered
    (reason ids differ per country, so they are read, never hard-coded)."""
    if not options:
        return None
    wanted = REASON_NAMES.get(reason.lower(), reason.lower().replace("_", " "))
    for option in options:
        if wanted and wanted in str(option.get("reason_name", "")).lower():
            return str(option["reason_id"])
    return str(options[0]["reason_id"])
