"""AfterShip Returns as the place where the desk opens approved returns.

Only one action: Create Return, with the lines the returns policy decided
on, refunded to the original payment and sent back on the merchant's own
label (AfterShip's API creates refund returns only). AfterShip then runs
its usual flow: the merchant's rules approve it, the label and e-mails go to
the customer, and its webhooks keep the mirrored return current.

AfterShip takes no idempotency key. A retry first mirrors what it already
knows under our key, then looks for an open return of the order covering
the same store lines, which is the one a lost answer left behind.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from integrations.aftership_returns import mapping
from integrations.aftership_returns.client import AfterShipReturnsClient
from integrations.commerce import (
    Capability,
    CommerceAdapter,
    ExecutionError,
    ExecutionResult,
    LineRequest,
)
from integrations.models import Order, Return
from integrations.return_mirror import record_opened_return, store_line_ids

# Our store providers under AfterShip's platform names.
PLATFORMS = {
    "shopify": "shopify",
    "bigcommerce": "bigcommerce",
    "magento": "magento-2",
    "adobe_commerce": "magento-2",
    "woocommerce": "woocommerce",
    "sfcc": "sfcc",
}
REASON = "Approved by customer support"
_CLOSED = {"rejected", "expired"}


class AfterShipReturnsAdapter(CommerceAdapter):
    provider = "aftership_returns"
    capabilities = frozenset({Capability.CREATE_RETURN})

    @cached_property
    def client(self) -> AfterShipReturnsClient:
        assert self.connection is not None
        return AfterShipReturnsClient.for_credentials(
            self.connection.credentials, bucket_name=str(self.connection.public_id)
        )

    def _store(self, order: Order) -> dict[str, str]:
        credentials = self.connection.credentials if self.connection else {}
        store_id = str(credentials.get("store_id") or "").strip()
        platform = str(credentials.get("store_platform") or "").strip()
        if not platform and order.connection is not None:
            platform = PLATFORMS.get(order.connection.provider, "")
        if not (store_id and platform):
            raise ExecutionError(
                "The AfterShip Returns connection does not say which store it serves",
                permanent=True,
            )
        return {"platform": platform, "external_id": store_id}

    def _items(self, order: Order, lines: list[LineRequest]) -> list[dict[str, Any]]:
        ids = store_line_ids(order)
        items = []
        for line in lines:
            line_id = ids.get(line.sku)
            if not line_id:
                raise ExecutionError(
                    f"The store's id of {line.sku} on #{order.number} is unknown, "
                    "so AfterShip cannot be told which line comes back",
                    permanent=True,
                )
            items.append(
                {
                    "external_order_item_id": line_id,
                    "intended_return_quantity": line.quantity,
                    "return_reason": REASON,
                    "return_reason_comment": line.reason[:500],
                    "resolution": "refund",
                }
            )
        return items

    def _left_behind(self, order: Order, item_ids: set[str]) -> dict[str, Any] | None:
        name = str((order.raw or {}).get("name") or f"#{order.number}")
        for ret in self.client.returns(order_name=name):
            if ret.get("approval_status") in _CLOSED:
                continue
            if str((ret.get("order") or {}).get("external_id") or "") != order.external_id:
                continue
            covered = {str(i.get("external_order_item_id")) for i in ret.get("return_items") or []}
            if item_ids <= covered:
                return ret
        return None

    def create_return(
        self, order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
    ) -> ExecutionResult:
        assert self.connection is not None
        mine = Return.objects.filter(tenant=order.tenant, idempotency_key=idempotency_key).first()
        if mine is not None:
            return _result(mine, replayed=True)
        if not order.external_id:
            raise ExecutionError(
                f"Order #{order.number} has no store id for AfterShip to find it by",
                permanent=True,
            )
        body = {
            "order": {"external_id": order.external_id, "store": self._store(order)},
            "return_items": self._items(order, lines),
            "return_method": {"type": "retailer_label"},
            "refund_destination": "original_payment",
        }
        wanted = {item["external_order_item_id"] for item in body["return_items"]}
        found = self._left_behind(order, wanted)
        replayed = found is not None
        created = found if found is not None else self.client.create_return(body)
        row = record_opened_return(
            self.connection,
            order,
            mapping.return_data(created),
            idempotency_key=idempotency_key,
            note=note,
        )
        return _result(row, replayed=replayed)


def _result(row: Return, *, replayed: bool) -> ExecutionResult:
    return ExecutionResult(
        row.external_id,
        {
            "replayed": replayed,
            "return": str(row.public_id),
            "rma_number": row.reference,
            "status": row.provider_status,
            "label_tracking_number": row.label_tracking_number,
            "label_url": row.label_url,
            "lines": row.lines,
        },
    )
