"""Salesforce B2C Commerce (SFCC) as a commerce adapter.

What the admin Orders API lets an API client do, and so what is declared:
find an order by its number, read it with its shipments' tracking numbers,
cancel it (order status ``cancelled``) and change a shipment's address. SFCC
moves no money itself: refunds are made at the payment provider (or in
Salesforce Order Management) and are not offered here, nor are returns
or replacements. An order is looked up by number only; the admin API has no
search by customer email.

Idempotency: cancelling reads the order first and a cancelled order is a
replay; setting the same address twice changes nothing.
"""

from __future__ import annotations

from integrations.commerce import (
    Address,
    ApiCommerceAdapter,
    Capability,
    ExecutionError,
    ExecutionResult,
)
from integrations.models import Order
from integrations.sfcc import mapping
from integrations.sfcc.client import SfccClient

# Statuses an order can no longer be cancelled from.
FINAL = {"completed", "failed", "replaced", "cancelled"}


class SfccAdapter(ApiCommerceAdapter[SfccClient]):
    provider = "sfcc"
    capabilities = frozenset(
        {
            Capability.FIND_ORDER,
            Capability.ORDER_DETAIL,
            Capability.CANCEL,
            Capability.UPDATE_ADDRESS,
        }
    )
    client_class = SfccClient
    label = "SFCC"
    needs_connection = "An {label} order needs its connection"

    def _remote(self, order: Order) -> dict:
        remote = self.client.order(order.number)
        if remote is None:
            raise ExecutionError(f"SFCC has no order {order.number}", permanent=True)
        return remote

    def mirror(self, remote: dict) -> Order | None:
        data = mapping.order_from_sfcc(remote)
        return self._apply(
            data,
            version_at=mapping.parse_time(remote.get("lastModified") or remote.get("creationDate")),
        )

    def fetch_order(self, number: str) -> Order | None:
        remote = self.client.order(number.strip().lstrip("#"))
        return self.mirror(remote) if remote else None

    def order_detail(self, order: Order) -> Order:
        self.mirror(self._remote(order))
        return super().order_detail(order)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        remote = self._remote(order)
        status = str(remote.get("status") or "")
        if status == "cancelled":
            self.mirror(remote)
            return ExecutionResult(order.number, {"replayed": True})
        if status in FINAL or remote.get("shippingStatus") == "shipped":
            raise ExecutionError(
                f"Order {order.number} is {status or 'shipped'} in SFCC and cannot be cancelled",
                permanent=True,
            )
        self.client.update_status(order.number, "cancelled")
        self.mirror(self._remote(order))
        return ExecutionResult(order.number, {"replayed": False})

    def update_shipping_address(
        self, order: Order, address: Address, *, idempotency_key: str
    ) -> ExecutionResult:
        remote = self._remote(order)
        if remote.get("status") in FINAL or remote.get("shippingStatus") in {
            "shipped",
            "part_shipped",
        }:
            raise ExecutionError(
                f"Order {order.number} has shipped or closed; its address can no longer change",
                permanent=True,
            )
        shipments = remote.get("shipments") or []
        if len(shipments) != 1:
            # Which of several shipments the customer means is a person's call.
            raise ExecutionError(
                f"Order {order.number} has {len(shipments)} shipments; change the address in Business Manager",
                permanent=True,
            )
        shipment_id = shipments[0]["shipmentId"]
        self.client.update_shipping_address(
            order.number, shipment_id, mapping.address_to_sfcc(address.as_dict())
        )
        order.shipping_address = address.as_dict()
        order.save(update_fields=["shipping_address", "updated_at"])
        return ExecutionResult(
            f"{order.number}:{shipment_id}", {"shipping_address": address.as_dict()}
        )
