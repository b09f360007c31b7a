"""Celery tasks of the integrations app: applying kept webhooks, refreshing tracking,
polling stores that send no webhooks."""

from __future__ import annotations

import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from integrations.carriers import polling

# Stop claiming new batches well before the soft limit; what a run does not
# reach returns to the schedule when its lease runs out.
RUN_SECONDS = 200


@shared_task(name="integrations.refresh_tracking", soft_time_limit=240, time_limit=300)
def refresh_tracking(*, limit: int = 300) -> dict:
    """Refresh up to ``limit`` shipments that are due, from their carriers.

    Run by beat every few minutes. Safe to run twice and in parallel: claims
    in the schedule are exclusive, shipments locked elsewhere are skipped
    (``select_for_update(skip_locked=True)``) and stored scans are
    idempotent. Temporary carrier failures are retried by the schedule, not
    by Celery, so one slow carrier cannot hold a worker in retries."""
    try:
        stats = polling.refresh_due(limit=limit, deadline=time.monotonic() + RUN_SECONDS)
    except SoftTimeLimitExceeded:
        return {"stopped": "soft time limit"}
    return stats.as_dict()


@shared_task(name="integrations.poll_store_orders", soft_time_limit=240, time_limit=300)
def poll_store_orders(*, limit: int = 200) -> dict:
    """Beat: mirror the orders updated since the last look in stores that
    send no webhooks (Magento Open Source), up to ``limit`` per store.

    Safe to run twice and in parallel: stores are leased per run, the
    cursor only moves forward and the mirror refuses stale writes. Store
    failures leave that store's cursor in place for the next run rather
    than being retried by Celery."""
    from integrations.magento import polling

    try:
        stats = polling.poll_due(deadline=time.monotonic() + RUN_SECONDS, limit=limit)
    except SoftTimeLimitExceeded:
        return {"stopped": "soft time limit"}
    return stats.as_dict()


@shared_task(name="integrations.subscribe_tracking_pushes", soft_time_limit=240, time_limit=300)
def subscribe_tracking_pushes() -> dict:
    """Ask carriers that push only subscribed numbers (UPS Track Alert) to watch
    the shipments still moving, and renew subscriptions before they lapse.

    Run by beat every few minutes. Safe to run twice and in parallel: each
    batch is claimed with ``select_for_update(skip_locked=True)`` and stamped
    before the call, and subscribing a watched number again only renews it.
    Carrier failures are retried by later runs, not by Celery."""
    from integrations.carriers import subscriptions

    try:
        stats = subscriptions.subscribe_due(deadline=time.monotonic() + RUN_SECONDS)
    except SoftTimeLimitExceeded:
        return {"stopped": "soft time limit"}
    return stats.as_dict()


@shared_task(
    name="integrations.process_webhook",
    soft_time_limit=30,
    time_limit=45,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=6,
)
def process_webhook(*, event_id: int) -> str:
    """Apply one webhook event kept by the intake view. Idempotent: an event
    already applied (or being applied by another worker) is skipped; one
    that keeps failing is set aside after ``webhooks.MAX_ATTEMPTS``."""
    from integrations import webhooks

    return webhooks.process_event(event_id)


@shared_task(name="integrations.process_waiting_webhooks", soft_time_limit=50)
def process_waiting_webhooks() -> int:
    """Beat: apply events whose task never arrived (broker down at commit, a
    worker killed before acknowledging)."""
    from integrations import webhooks

    return webhooks.process_waiting()


@shared_task(
    name="integrations.apply_carrier_code_override",
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=5,
)
def apply_carrier_code_override(*, override_id: int) -> int:
    """Re-map the stored scans of a newly mapped carrier code, in batches.

    Safe to run twice and beside the poller: each batch claims its scans with
    ``select_for_update(skip_locked=True)`` and only unmapped scans are
    claimed. Scans held elsewhere when the run ends are left for one more run
    a minute later; returns how many scans changed."""
    from integrations.actions import _events_to_remap, reapply_carrier_code_override
    from integrations.models import CarrierCodeOverride

    changed = 0
    try:
        while done := reapply_carrier_code_override(override_id):
            changed += done
    except SoftTimeLimitExceeded:
        apply_carrier_code_override.apply_async(kwargs={"override_id": override_id}, countdown=5)
        return changed
    override = CarrierCodeOverride.objects.filter(pk=override_id).first()
    if override and _events_to_remap(override).exists():
        # Everything left was locked by someone else: look again shortly.
        apply_carrier_code_override.apply_async(kwargs={"override_id": override_id}, countdown=60)
    return changed
