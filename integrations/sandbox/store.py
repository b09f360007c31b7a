"""The sandbox store: orders live in our database and actions are recorded here.

It behaves like a real platform where it matters: it refuses a refund above
the order's refundable remainder, and a repeated idempotency key returns the
first refund instead of making a second one (as Shopify's @idempotent does).
It has no returns or draft orders, so it does not declare those capabilities.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from integrations.commerce import (
    Address,
    Capability,
    CommerceAdapter,
    ExecutionError,
    ExecutionResult,
)
from integrations.models import Connection, Order, Refund


class SandboxStore(CommerceAdapter):
    provider = Connection.Provider.SANDBOX
    capabilities = frozenset(
        {
            Capability.FIND_ORDER,
            Capability.LIST_ORDERS,
            Capability.ORDER_DETAIL,
            Capability.REFUND,
            Capability.CANCEL,
            Capability.UPDATE_ADDRESS,
        }
    )

    def _mirror(self):
        # Sandbox orders usually have no connection row at all.
        return Order.objects.filter(tenant=self.tenant)

    def refund(
        self, order: Order, amount: Decimal, *, idempotency_key: str, note: str
    ) -> ExecutionResult:
        return refund(order, amount, idempotency_key=idempotency_key, note=note)

    def cancel(
        self, order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
    ) -> ExecutionResult:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.cancelled_at is not None:
                return ExecutionResult(str(locked.public_id), {"replayed": True})
            if locked.shipments.exclude(shipped_at=None).exists():
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
            if locked.shipments.exclude(shipped_at=None).exists():
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
