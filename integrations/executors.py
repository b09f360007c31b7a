"""The one door through which money and orders change on a merchant's store.

Each executor takes an idempotency key derived from the proposal, so a retry,
a double click or a redelivered task lands once. Which adapter runs depends on
the order's connection; the sandbox store is the embedded default.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from integrations.models import Connection, Order
from integrations.sandbox import store as sandbox_store


class ExecutionError(Exception):
    """The store refused or failed; ``permanent`` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class ExecutionResult:
    external_id: str
    detail: dict


def refund(order: Order, amount: Decimal, *, idempotency_key: str, note: str) -> ExecutionResult:
    if amount <= 0:
        raise ExecutionError("Refund amount must be positive", permanent=True)
    provider = order.connection.provider if order.connection else Connection.Provider.SANDBOX
    if provider == Connection.Provider.SANDBOX:
        return sandbox_store.refund(order, amount, idempotency_key=idempotency_key, note=note)
    raise ExecutionError(f"No refund executor for provider {provider!r}", permanent=True)
