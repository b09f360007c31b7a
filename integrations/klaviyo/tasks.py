"""Celery tasks of the Klaviyo connection."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)

MAX_RETRIES = 8


@shared_task(
    name="integrations.klaviyo_send_event",
    bind=True,
    soft_time_limit=30,
    time_limit=45,
    max_retries=MAX_RETRIES,
)
def send_moment(self, *, source: str, pk: int) -> str:
    """Send one desk moment to the tenant's Klaviyo account.

    Safe to run twice: the event carries a ``unique_id`` derived from the row,
    and Klaviyo keeps one event per unique id. A 429 waits as long as Klaviyo
    asks, other temporary errors back off; a refusal is logged with Klaviyo's
    words and kept as the connection's last check message."""
    from integrations.klaviyo.client import KlaviyoClient, KlaviyoError
    from integrations.klaviyo.moments import moment_for
    from integrations.models import Connection

    found = moment_for(source, pk)
    if found is None:
        return "no moment"
    tenant_id, moment = found
    connection = (
        Connection.objects.filter(tenant_id=tenant_id, provider="klaviyo", is_active=True)
        .order_by("-created_at")
        .first()
    )
    if connection is None:
        return "not connected"
    try:
        KlaviyoClient.for_credentials(connection.credentials).create_event(
            metric=moment.metric,
            email=moment.email,
            properties=moment.properties,
            unique_id=moment.unique_id,
            time=moment.time,
            value=moment.value,
        )
    except KlaviyoError as exc:
        if exc.permanent:
            log.warning("Klaviyo refused %s %s: %s", source, pk, exc.message)
            Connection.objects.filter(pk=connection.pk).update(
                last_check_ok=False, last_check_message=exc.message[:500]
            )
            return f"refused: {exc.message}"
        countdown = max(exc.retry_in, 30 * 2**self.request.retries)
        raise self.retry(countdown=countdown) from exc
    return "sent"
