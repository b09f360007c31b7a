"""The one door through which money and orders change on a merchant's store.

Each executor takes an idempotency key derived from the proposal, so a retry,
a double click or a redelivered task lands once. Which adapter runs depends on
the order's connection (see ``integrations.commerce``); the sandbox store is
the embedded default. ``ExecutionError(permanent=False)`` means "try again
later" (throttled, the store is down); permanent errors carry the store's own
message for the specialist.
"""

from __future__ import annotations

from decimal import Decimal

from integrations import health
from integrations.commerce import (
    Address,
    Capability,
    CommerceAdapter,
    ExecutionError,
    ExecutionResult,
    LineRequest,
    RefundParts,
    adapter_for_order,
)
from integrations.models import Order

__all__ = [
    "Address",
    "ExecutionError",
    "ExecutionResult",
    "LineRequest",
    "RefundParts",
    "cancel",
    "create_replacement",
    "create_return",
    "refund",
    "store_credit",
    "update_shipping_address",
]


def _adapter(order: Order, capability: Capability) -> CommerceAdapter:
    adapter = adapter_for_order(order)
    if not adapter.supports(capability):
        raise adapter.unsupported(capability)
    return adapter


def _counted(adapter: CommerceAdapter):
    """The store call made inside, counted in its connection's health."""
    connection = adapter.connection
    return health.observed(connection.pk if connection is not None else None)


def _require_key(idempotency_key: str) -> None:
    if not idempotency_key:
        raise ExecutionError("An idempotency key is required", permanent=True)


def refund(
    order: Order,
    amount: Decimal,
    *,
    idempotency_key: str,
    note: str,
    parts: RefundParts | None = None,
) -> ExecutionResult:
    if amount <= 0:
        raise ExecutionError("Refund amount must be positive", permanent=True)
    _require_key(idempotency_key)
    adapter = _adapter(order, Capability.REFUND)
    if parts is not None:
        if parts.shipping < 0 or parts.shipping > amount:
            raise ExecutionError("The shipping refunded must lie within the refund", permanent=True)
        for capability in sorted(parts.needs()):
            if not adapter.supports(capability):
                raise adapter.unsupported(capability)
    with _counted(adapter):
        if parts is None:
            return adapter.refund(order, amount, idempotency_key=idempotency_key, note=note)
        return adapter.refund(
            order, amount, idempotency_key=idempotency_key, note=note, parts=parts
        )


def cancel(
    order: Order, *, idempotency_key: str, reason: str = "customer", note: str = ""
) -> ExecutionResult:
    _require_key(idempotency_key)
    adapter = _adapter(order, Capability.CANCEL)
    with _counted(adapter):
        return adapter.cancel(order, idempotency_key=idempotency_key, reason=reason, note=note)


def update_shipping_address(
    order: Order, address: Address, *, idempotency_key: str
) -> ExecutionResult:
    _require_key(idempotency_key)
    adapter = _adapter(order, Capability.UPDATE_ADDRESS)
    with _counted(adapter):
        return adapter.update_shipping_address(order, address, idempotency_key=idempotency_key)


def create_return(
    order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
) -> ExecutionResult:
    _require_key(idempotency_key)
    if not lines:
        raise ExecutionError("A return needs at least one line", permanent=True)
    # A connected returns platform (AfterShip Returns) opens the return instead
    # of the store, so the merchant's returns flow and e-mails still apply.
    from integrations.return_mirror import returns_platform_for

    adapter = returns_platform_for(order.tenant) or _adapter(order, Capability.CREATE_RETURN)
    with _counted(adapter):
        return adapter.create_return(order, lines, idempotency_key=idempotency_key, note=note)


def create_replacement(
    order: Order, lines: list[LineRequest], *, idempotency_key: str, note: str = ""
) -> ExecutionResult:
    _require_key(idempotency_key)
    if not lines:
        raise ExecutionError("A replacement needs at least one line", permanent=True)
    adapter = _adapter(order, Capability.REPLACEMENT)
    with _counted(adapter):
        return adapter.create_replacement(order, lines, idempotency_key=idempotency_key, note=note)


def store_credit(
    order: Order, amount: Decimal, *, idempotency_key: str, note: str
) -> ExecutionResult:
    """Credit the order's customer in the order's currency, once per key."""
    if amount <= 0:
        raise ExecutionError("Store credit must be positive", permanent=True)
    _require_key(idempotency_key)
    adapter = _adapter(order, Capability.STORE_CREDIT)
    with _counted(adapter):
        return adapter.store_credit(order, amount, idempotency_key=idempotency_key, note=note)
