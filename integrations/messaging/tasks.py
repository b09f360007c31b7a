"""Celery tasks of the outbox. Imports nothing heavy at load: models import this module."""

from __future__ import annotations

from collections import Counter, defaultdict

from celery import shared_task


@shared_task(name="integrations.send_message", bind=True, soft_time_limit=30, time_limit=45)
def send_message(self, *, message_id: int) -> str:
    """Send one outbox message. Safe to run twice: only the run that claims the message
    (queued → sending) calls the provider; a sent message is left alone. Temporary
    provider errors retry with exponential backoff; permanent ones, and temporary
    ones past the attempt limit, mark the message failed with the provider's words."""
    from integrations.messaging.actions import send_now
    from integrations.messaging.clients import TemporaryError

    try:
        return send_now(message_id)
    except TemporaryError as exc:
        raise self.retry(countdown=exc.retry_in, max_retries=None) from exc


# Up to SEND_BATCH_SIZE messages, each allowed the clients' own timeouts; a task out of
# time leaves the rest queued for the due-message sweep.
@shared_task(name="integrations.send_messages", soft_time_limit=120, time_limit=150)
def send_messages(*, message_ids: list[int]) -> dict[str, int]:
    """Send the outbox messages one transaction queued, in one task, as ``send_message``
    sends one: each claimed on its own, so running twice sends nothing twice. Those a
    temporary provider error put back in the queue are tried again after their backoff."""
    from integrations.messaging.actions import send_batch

    outcome = send_batch(message_ids)
    retry_later(outcome.retry_in)
    return dict(Counter(outcome.states.values()))


def retry_later(retry_in: dict[int, int]) -> None:
    """Send messages again after their backoff, one task for those due at the same time."""
    due_together: dict[int, list[int]] = defaultdict(list)
    for message_id, seconds in retry_in.items():
        due_together[seconds].append(message_id)
    for seconds, message_ids in due_together.items():
        send_messages.apply_async(kwargs={"message_ids": message_ids}, countdown=seconds)


@shared_task(name="integrations.send_due_messages", soft_time_limit=50)
def send_due_messages(*, limit: int = 5000) -> int:
    """Enqueue messages whose quiet hours, backoff or survey delay have ended, and due
    messages whose task was lost, in batches. Run every minute by beat; safe to
    overlap, because sending claims. The limit is above what surveys falling due at
    peak rate bring: a Black Friday's 58 resolutions a second come due a day later at
    3,480 a minute. (How fast the send tasks then send them is not measured.)"""
    from django.utils import timezone

    from integrations.messaging.actions import due_message_ids, enqueue_send

    ids = due_message_ids(timezone.now(), limit=limit)
    enqueue_send(ids)
    return len(ids)


@shared_task(name="integrations.fail_interrupted_sends", soft_time_limit=50)
def fail_interrupted_sends(*, limit: int = 500) -> int:
    """Show as failed, on the desk, the messages whose sender died mid-send. Run every
    few minutes by beat; safe to overlap (SKIP LOCKED)."""
    from integrations.messaging.actions import fail_interrupted_sends as fail

    return len(fail(limit=limit))
