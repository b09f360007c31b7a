"""Celery tasks of the desk: executing approved proposals, threading inbound messages,
the SLA sweep and board rollups."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from desk import actions
from integrations.executors import ExecutionError
from integrations.messaging import actions as outbox


@shared_task(
    name="desk.execute_proposal",
    bind=True,
    autoretry_for=(ExecutionError, ConnectionError, TimeoutError),
    retry_backoff=2,
    retry_backoff_max=120,
    max_retries=8,
    soft_time_limit=45,
)
def execute_proposal(self, *, proposal_id: int) -> str:
    """Execute one approved proposal. Safe to run twice: the store call carries
    the proposal's idempotency key and resolution happens under a row lock.
    Permanent store errors re-escalate the contact instead of retrying. The reply
    and the survey of the resolution leave from this task, not a send task each."""
    with outbox.send_after_commit_here():
        proposal = actions.execute_proposal(proposal_id)
    return proposal.status


@shared_task(
    name="desk.thread_inbound",
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=5,
    soft_time_limit=30,
)
def thread_inbound(*, inbound_message_id: int) -> str:
    """Thread one customer message (SMS, WhatsApp, email) into a contact. Safe to run
    twice: the message row is locked and only a message not yet threaded is handled."""
    from desk import inbound

    done = inbound.thread_inbound(inbound_message_id)
    return done.state if done else "skipped"


@shared_task(name="desk.requeue_stalled", soft_time_limit=30)
def requeue_stalled(*, older_than_seconds: float = 120) -> int:
    """Re-enqueue work whose task was lost (broker restart, a worker killed before
    it acknowledged): contacts still waiting for the agent, approved proposals
    not yet executed and customer messages not yet threaded, after a grace
    period. Safe because all three tasks are idempotent."""
    from datetime import timedelta

    from django.utils import timezone

    from desk.celery import app
    from desk.models import Contact, Proposal
    from integrations.messaging.models import InboundMessage

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    count = 0
    for contact_id in Contact.objects.filter(
        status=Contact.Status.RECEIVED, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:500]:
        app.send_task("agents.handle_contact", kwargs={"contact_id": contact_id})
        count += 1
    for proposal_id in Proposal.objects.filter(
        status=Proposal.Status.APPROVED, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:500]:
        execute_proposal.delay(proposal_id=proposal_id)
        count += 1
    for inbound_id in InboundMessage.objects.filter(
        state=InboundMessage.State.RECEIVED, created_at__lt=cutoff
    ).values_list("pk", flat=True)[:500]:
        thread_inbound.delay(inbound_message_id=inbound_id)
        count += 1
    return count


@shared_task(name="desk.sweep_sla", soft_time_limit=50, time_limit=60)
def sweep_sla() -> dict:
    """Record SLA breaches and near-breaches, alert leads, stop clocks whose target
    was met. Run every few seconds by beat; safe to run twice or in parallel
    (SKIP LOCKED batches, marks conditional on not being marked yet), and a run
    lost to a restart is made good by the next one: deadlines are stored, not
    scheduled."""
    from desk import sla

    return sla.sweep().as_dict()


@shared_task(name="desk.refresh_board_days", soft_time_limit=240, time_limit=300)
def refresh_board_days() -> int:
    """Summarise closed local days for the SLA boards: days never summarised and
    days a late write changed. Safe to run twice or in parallel (day rows are
    locked while they are redone); a board that finds a day still stale
    summarises it itself, so a missed run only makes that board slower."""
    from desk import rollups

    return rollups.refresh_due()


@shared_task(name="desk.carrier_delivered", soft_time_limit=30)
def carrier_delivered(*, shipment_id: int) -> int:
    """A delivered scan: if the parcel is a return coming back, the open cases about
    its order stop waiting on the carrier. Safe to run twice (resuming is idempotent).
    Scans are followed up by agents.follow_up_scan now; this name stays for tasks
    queued before that."""
    from integrations.models import Shipment

    shipment = Shipment.objects.filter(pk=shipment_id).first()
    return actions.return_parcel_delivered(shipment) if shipment else 0


@shared_task(name="desk.reopen_missed", soft_time_limit=50, time_limit=60)
def reopen_missed() -> int:
    """Contacts whose failed answer was not heard of (the process died first) come
    back to the inbox. Run by beat every few minutes; safe to overlap."""
    from desk.delivery import reopen_missed as sweep

    return sweep()
