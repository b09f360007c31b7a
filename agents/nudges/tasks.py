"""Celery tasks of the nudge engine. Imports nothing heavy at load: models import this module."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="agents.follow_up_scan", soft_time_limit=30, time_limit=45)
def follow_up_scan(*, tracking_event_id: int) -> int:
    """Follow up one new scan: the nudge rules it answers, and a returned parcel's
    arrival for the desk; returns the nudge messages written. Idempotent: a
    redelivered or repeated task writes nothing twice."""
    from agents.scans import follow_up

    return follow_up([tracking_event_id])


@shared_task(name="agents.evaluate_nudges", soft_time_limit=30, time_limit=45)
def evaluate_nudges(*, tracking_event_id: int) -> int:
    """Evaluate one tracking event against its tenant's nudge rules; returns the number
    of outbox messages written. Idempotent: a redelivered or repeated task finds the
    message its first run wrote (unique key per shipment and trigger) and writes nothing.
    New scans go to follow_up_scan; this name stays for tasks queued before it."""
    from agents.nudges.engine import evaluate_events

    return len(evaluate_events([tracking_event_id]))


@shared_task(name="agents.follow_up_missed_scans", soft_time_limit=50, time_limit=60)
def follow_up_missed_scans() -> dict:
    """Scans whose follow_up_scan task was lost (a broker restart): followed up by beat
    every two minutes; safe to overlap, each nudge is keyed."""
    from agents.scans import follow_up_missed

    return follow_up_missed()


@shared_task(name="agents.sweep_delays", soft_time_limit=240, time_limit=300)
def sweep_delays() -> dict:
    """Time-based nudges (late, stalled, never scanned) and refund notices. Run by beat
    every 15 minutes; safe to overlap, each nudge is keyed."""
    from agents.nudges.engine import sweep

    return sweep()


@shared_task(name="agents.nudge_case_event", soft_time_limit=30)
def nudge_case_event(*, order_id: int, trigger: str, reference: str, **extra: str) -> int:
    """A case event for the customer (return label ready, refund issued), once per reference."""
    from agents.nudges.engine import nudge_order
    from integrations.models import Order

    order = Order.objects.select_related("tenant", "customer").filter(pk=order_id).first()
    if order is None:
        return 0
    return len(nudge_order(order.tenant, trigger, order=order, reference=reference, **extra))
