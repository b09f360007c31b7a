"""Celery tasks of the Gorgias connection."""

from __future__ import annotations

from celery import shared_task

# How long a close waits for the contact's last replies to reach the ticket.
REPLY_WAIT_SECONDS = 15
MAX_REPLY_WAITS = 40
MAX_RETRIES = 60


@shared_task(
    name="integrations.gorgias_close_ticket",
    bind=True,
    soft_time_limit=45,
    time_limit=60,
    max_retries=None,
)
def close_ticket(self, *, contact_id: int) -> str:
    """The contact was resolved: close its Gorgias ticket, once the desk's replies
    to it have been posted (closing first would leave them after the close).

    Safe to run twice: setting the status again changes nothing. Temporary
    errors retry with backoff; a refusal is written on the contact as a note,
    in Gorgias's words."""
    from integrations.gorgias import status

    outcome = status.close(contact_id)
    if outcome.retry_in is None:
        return outcome.result
    if outcome.result == "waiting" and self.request.retries >= MAX_REPLY_WAITS:
        outcome = status.close(contact_id, wait_for_replies=False)
        return outcome.result
    if self.request.retries >= MAX_RETRIES:
        return "gave up"
    raise self.retry(countdown=outcome.retry_in)
