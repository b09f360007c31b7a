"""The outbox: every message to a customer, its state and the provider's answers.

A message is written once per idempotency key (unique per tenant), so whoever
asks twice for the same message (a redelivered scan, a retried task) finds
the first one instead of creating a second. Opt-outs are kept per channel and
address and checked both when a message is queued and when it is sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from tenants.models import Tenant

__all__ = ["Channel", "ConversationWindow", "InboundMessage", "OptOut", "OutboundMessage"]

# WhatsApp lets a business send free text only within 24 hours of the
# customer's last message; outside it, only an approved template.
WHATSAPP_SESSION = timedelta(hours=24)


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


class OutboundMessage(models.Model):
    """One message to one customer on one channel, queued → sending → sent → delivered / failed.

    ``skipped`` is terminal too: the message was decided and deliberately not
    sent, and ``skip_reason`` says why. A message held back (quiet hours) stays
    queued with ``send_after`` set and ``defer_reason`` saying why."""

    class State(models.TextChoices):
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        DELIVERED = "delivered"
        FAILED = "failed"
        SKIPPED = "skipped"

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", "Customer opted out"
        FREQUENCY_CAP = "frequency_cap", "Frequency cap reached"
        OPEN_CONTACT = "open_contact", "Customer has an open contact"
        NO_CHANNEL = "no_channel", "No usable channel or address"
        SUPERSEDED = "superseded", "Shipment moved on before it could be sent"
        WITHDRAWN = "withdrawn", "Withdrawn before it was due"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Foreign keys are indexed by the composite indexes below, which lead with them:
    # every index costs each of the two or three writes of every message.
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="outbound_messages", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    locale = models.CharField(max_length=16, blank=True)
    # A WhatsApp template approved by Meta, sent outside the 24-hour session.
    template = models.CharField(max_length=512, blank=True)
    template_language = models.CharField(max_length=16, blank=True)
    template_params = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    skip_reason = models.CharField(max_length=24, choices=SkipReason.choices, blank=True)
    defer_reason = models.CharField(max_length=24, blank=True)
    idempotency_key = models.CharField(max_length=160)
    # What the message is about, for the outbox report and attribution.
    trigger = models.CharField(max_length=32, blank=True)
    customer = models.ForeignKey(
        "integrations.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    shipment = models.ForeignKey(
        "integrations.Shipment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_messages",
        db_index=False,
    )
    order = models.ForeignKey(
        "integrations.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    # Email only: our Message-ID header, which a reply names in In-Reply-To.
    email_message_id = models.CharField(max_length=255, blank=True)
    provider_responses = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    send_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="outbound_message_once_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at"]),
            models.Index(fields=["customer", "created_at"]),
            models.Index(fields=["shipment", "trigger"]),
            models.Index(fields=["provider", "provider_id"]),
            # Matched exactly (In-Reply-To), never by prefix: one index, not two.
            models.Index(fields=["email_message_id"], name="outbound_by_email_message_id"),
            models.Index(
                fields=["send_after"],
                name="outbound_due",
                condition=models.Q(state="queued"),
            ),
            # The few being sent right now, for the sweep that finds a dead sender's.
            models.Index(
                fields=["updated_at"],
                name="outbound_sending",
                condition=models.Q(state="sending"),
            ),
            # The few that failed lately, for the desk's sweep of answers that bounced.
            models.Index(
                fields=["failed_at"],
                name="outbound_failed",
                condition=models.Q(state="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to or '-'} ({self.state})"

    @property
    def is_final(self) -> bool:
        return self.state in (self.State.DELIVERED, self.State.FAILED, self.State.SKIPPED)

    def is_due(self, now: datetime) -> bool:
        return self.send_after is None or self.send_after <= now


class OptOut(models.Model):
    """A customer's "stop" on one channel and address: nothing more is sent there."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="opt_outs")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=254)
    source = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "address"], name="opt_out_once_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address} opted out"


class ConversationWindow(models.Model):
    """When a customer last wrote to us on a channel (WhatsApp's 24-hour session rule)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    address = models.CharField(max_length=254)
    last_inbound_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "address"], name="conversation_window_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.address} last wrote {self.last_inbound_at:%Y-%m-%d %H:%M}"

    def is_open(self, now: datetime) -> bool:
        return now - self.last_inbound_at < WHATSAPP_SESSION


class InboundMessage(models.Model):
    """One message a customer sent us, once per provider message id.

    The webhook that carried it is kept as a WebhookEvent; this row is what the
    desk threads into a contact. A provider redelivering the message (with or
    without a new delivery id) finds this row and changes nothing."""

    class State(models.TextChoices):
        RECEIVED = "received"  # waiting for the desk to thread it
        THREADED = "threaded"  # appended to an open contact
        NEW_CONTACT = "new_contact"  # started a contact of its own
        OPTED_OUT = "opted_out"  # a STOP/START keyword: handled here, never a contact
        UNSUPPORTED = "unsupported"  # a kind we cannot read (a sticker, a location)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbound_messages")
    connection = models.ForeignKey(
        "integrations.Connection", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    provider = models.CharField(max_length=32)
    provider_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, default="text")
    sender = models.CharField(max_length=254)
    sender_name = models.CharField(max_length=160, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    # Message-IDs of the email this one answers (In-Reply-To first, then References).
    thread_refs = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    # The desk's contact, by public id: this app does not import the desk.
    contact_public_id = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "provider_id"], name="inbound_message_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "channel", "sender"])]

    def __str__(self) -> str:
        return f"{self.channel} from {self.sender} ({self.state})"


# Celery finds tasks in each app's ``tasks`` module; this package's tasks are
# registered by importing them here (the module imports nothing at load time).
from integrations.messaging import tasks as _tasks  # noqa: E402, F401
