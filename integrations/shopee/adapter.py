"""Shopee as a commerce adapter: the mirror first, the Open Platform API when needed.

Shopee lets a seller read orders and cancel one not yet shipped; returns and
refunds are started by the buyer and only answered by the seller, address
changes are the buyer's, and buyer emails are never disclosed, so refunds,
returns, replacements, address changes and look-up by email are not declared.

Idempotency: cancel_order has no key, so a cancel first reads the order; one
already CANCELLED or IN_CANCEL is the effect of a previous attempt and is
answered as a replay without calling again.
"""

from __future__ import annotations

from integrations.commerce import (
    ApiCommerceAdapter,
    Capability,
    ExecutionError,
    ExecutionResult,
)
from integrations.models import Order
from integrations.shopee import mapping
from integrations.shopee.client import ShopeeClient

# Shopee's own cancel reasons a seller may give.
CANCEL_REASONS = {"OUT_OF_STOCK", "CUSTOMER_REQUEST", "UNDELIVERABLE_AREA", "COD_NOT_SUPPORTED"}


class ShopeeAdapter(ApiCommerceAdapter[ShopeeClient]):
    provider = "shopee"
    capabilities = frozenset(
        {Capability.FIND_ORDER, Capability.ORDER_DETAIL, Capability.CANCEL, Capability.WEBHOOKS}
    )

    client_class = ShopeeClient
    label = "Shopee"

    def fetch_order(self, number: str) -> Order | None:
        wanted = number.strip().lstrip("#").upper()
        if not wanted.isalnum():
            return None
        remote = self.read(wanted)
        return self.mirror(remote) if remote else None

    def order_detail(self, order: Order) -> Order:
        remote = self.read(order.external_id or order.number)
        if remote is not None:
            self.mirror(remote)
        return super().order_detail(order)

    def read(self, order_sn: str) -> dict | None:
        """The order with the tracking number of each package that has one."""
        remote = self.client.order(order_sn)
        if remote is None:
            return None
        remote["_tracking"] = {
            str(p["package_number"]): self.client.tracking_number(
                order_sn, str(p["package_number"])
            )
            for p in remote.get("package_list") or []
            if p.get("logistics_status") not in {"LOGISTICS_NOT_START", "LOGISTICS_PENDING_ARRANGE"}
        }
        return remote

    def mirror(self, remote: dict, *, version_at=None) -> Order | None:
        tracking = remote.pop("_tracking", {})
        data = mapping.order_from_api(remote, tracking)
        stamp = version_at or mapping.from_unix(remote.get("update_time"))
        return self._apply(data, version_at=stamp)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        order_sn = order.external_id or order.number
        remote = self.client.order(order_sn)
        if remote is None:
            raise ExecutionError(f"Shopee has no order {order_sn}", permanent=True)
        status = remote.get("order_status")
        if status in {"CANCELLED", "IN_CANCEL"}:
            return ExecutionResult(order_sn, {"replayed": True, "status": status})
        if status not in mapping.CANCELLABLE:
            raise ExecutionError(
                f"Shopee order {order_sn} is {status}; only an order not yet shipped can be cancelled",
                permanent=True,
            )
        wanted = reason.upper()
        shopee_reason = wanted if wanted in CANCEL_REASONS else "CUSTOMER_REQUEST"
        answer = self.client.cancel_order(order_sn, shopee_reason)
        return ExecutionResult(
            order_sn, {"replayed": False, "update_time": answer.get("update_time")}
        )
