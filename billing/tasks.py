"""Celery tasks of billing: closing months into frozen statements."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="billing.freeze_statements", soft_time_limit=300)
def freeze_statements() -> int:
    """Freeze each active tenant's latest month whose 72-hour reopen window has
    passed. Safe to run twice or concurrently: a month already frozen is left
    as it is (one statement per tenant and month, enforced by a unique
    constraint). Run hourly, because tenants' months end at different hours."""
    from billing.actions import freeze_due_statements

    return len(freeze_due_statements())
