"""A merchant's nudge rules: what to tell customers, when, how, and how often at most."""

from __future__ import annotations

import uuid
from datetime import time

from django.db import models

from tenants.models import Tenant

__all__ = ["NudgeRule"]


def default_channels() -> list[str]:
    return ["email"]


class NudgeRule(models.Model):
    """One trigger's message for one tenant, with its channels, templates and limits.

    Templates are per locale: ``{"en": {"subject", "body", "whatsapp_template",
    "whatsapp_language", "whatsapp_params"}}``; bodies use ``{{ variable }}``."""

    class Trigger(models.TextChoices):
        SHIPPED = "shipped", "Shipped"
        OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
        DELIVERED = "delivered", "Delivered"
        FAILED_ATTEMPT = "failed_attempt", "Failed delivery attempt"
        EXCEPTION = "exception", "Exception (by substatus)"
        AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pickup"
        LATE = "late", "Delay: estimated delivery date passed"
        STALLED = "stalled", "Delay: no scan for N days"
        NOT_SCANNED = "not_scanned", "Delay: label created, not scanned for N days"
        RETURN_LABEL_READY = "return_label_ready", "Return label ready"
        REFUND_ISSUED = "refund_issued", "Refund issued"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="nudge_rules")
    name = models.CharField(max_length=120)
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    # Exception rules only: the substatuses they answer; empty means any.
    substatuses = models.JSONField(default=list, blank=True)
    # Delay rules only: how many days without a scan before we speak.
    delay_days = models.PositiveSmallIntegerField(default=3)
    channels = models.JSONField(default=default_channels)
    templates = models.JSONField(default=dict)
    # Local time of the customer; a window crossing midnight (21:00-08:00) is fine.
    quiet_start = models.TimeField(null=True, blank=True, default=time(21, 0))
    quiet_end = models.TimeField(null=True, blank=True, default=time(8, 0))
    # At most cap_count nudges per customer in cap_hours, across all rules.
    cap_count = models.PositiveSmallIntegerField(default=3)
    cap_hours = models.PositiveSmallIntegerField(default=24)
    suppress_while_contact_open = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trigger", "id"]
        indexes = [models.Index(fields=["tenant", "is_active", "trigger"])]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.name} ({self.trigger})"

    def matches_substatus(self, substatus: str) -> bool:
        return not self.substatuses or substatus in self.substatuses


from agents.nudges import tasks as _tasks  # noqa: E402, F401  (registers the Celery tasks)
