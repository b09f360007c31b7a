"""Postmark's delivery events (through django-anymail) onto the outbox.

Postmark posts Delivery, Bounce, SpamComplaint and SubscriptionChange events
to /webhooks/postmark/events behind HTTP basic credentials
(ANYMAIL_WEBHOOK_SECRET, "user:password"); anymail checks them and turns
each post into a normalised tracking event. Here the raw event is kept and
the message it names moves forward (a late event never moves it back); a
spam complaint or an unsubscribe stops email to that address for the tenant.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction

from integrations.messaging import actions
from integrations.messaging.models import Channel
from integrations.models import WebhookEvent

logger = logging.getLogger(__name__)

# anymail's normalised event types → the outbox's provider-status words.
STATUS = {
    "queued": "sent",
    "sent": "sent",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounced": "bounced",
    "rejected": "rejected",
    "failed": "failed",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}
STOPS_EMAIL = {"complained", "unsubscribed"}


def on_tracking(sender, event, esp_name: str, **kwargs) -> None:
    if esp_name != "Postmark":
        return
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    status = STATUS.get(event.event_type, "")
    with transaction.atomic():
        message = (
            actions.apply_status(
                "postmark",
                event.message_id or "",
                status,
                raw=raw,
                error=event.description or event.mta_response or "",
                at=event.timestamp,
            )
            if status
            else None
        )
        WebhookEvent.objects.create(
            connection=None,
            provider="postmark",
            topic=str(raw.get("RecordType", event.event_type))[:64],
            body=json.dumps(raw),
            status=WebhookEvent.Status.PROCESSED if message else WebhookEvent.Status.FAILED,
            error="" if message else f"No outbound message {event.message_id!r}",
        )
        if message is not None and event.event_type in STOPS_EMAIL and event.recipient:
            actions.opt_out(
                message.tenant,
                Channel.EMAIL,
                event.recipient,
                source=f"postmark:{event.event_type}",
            )
