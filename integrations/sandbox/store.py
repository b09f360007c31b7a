"""The sandbox store: orders live in our database and refunds are recorded here.

It behaves like a real platform where it matters: it refuses a refund above
the order's refundable remainder, and a repeated idempotency key returns the
first refund instead of making a second one (as Shopify's @idempotent does).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from integrations.models import Order, Refund

if TYPE_CHECKING:
    from integrations.executors import ExecutionResult


def refund(order: Order, amount: Decimal, *, idempotency_key: str, note: str) -> ExecutionResult:
    from integrations.executors import ExecutionError, ExecutionResult

    with transaction.atomic():
        # Lock the order so two refunds cannot both pass the remainder check.
        locked = Order.objects.select_for_update().get(pk=order.pk)
        existing = Refund.objects.filter(tenant=locked.tenant, idempotency_key=idempotency_key)
        if (first := existing.first()) is not None:
            return ExecutionResult(str(first.public_id), {"replayed": True})
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
