"""Celery tasks of the outbox. Imports nothing heavy at load: models import this module."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="integrations.send_message", bind=True, queue="nudges", soft_time_limit=30, time_limit=45
)
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


@shared_task(name="integrations.send_due_messages", queue="nudges", soft_time_limit=50)
def send_due_messages(*, limit: int = 500) -> int:
    """Enqueue messages whose quiet hours or backoff have ended, and due messages whose
    task was lost. Run every minute by beat; safe to overlap, because sending claims."""
    from django.utils import timezone

    from integrations.messaging.actions import due_message_ids

    ids = due_message_ids(timezone.now(), limit=limit)
    for message_id in ids:
        send_message.delay(message_id=message_id)
    return len(ids)
