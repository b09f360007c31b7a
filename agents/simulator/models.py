"""A dry run of the agent over a merchant's past tickets, before the contract is signed."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models

from tenants.models import Tenant


class Simulation(models.Model):
    """One upload of a ticket export and what the agent would have done with it.

    The file's text is kept so the same tickets can be run again (after a policy
    or autonomy change); ``result`` holds running tallies while the batches go,
    then the summary the results page shows."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="simulations")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(max_length=200, blank=True)
    csv_text = models.TextField()
    # The proposed contract the results are priced at.
    currency = models.CharField(max_length=3, default="USD")
    ai_resolution_price = models.DecimalField(max_digits=8, decimal_places=2)
    human_resolution_price = models.DecimalField(max_digits=8, decimal_places=2)
    deflection_floor = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.700"))
    monthly_volume = models.PositiveIntegerField(
        null=True, blank=True, help_text="Contacts a month, if known; else scaled from the file."
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"simulation of {self.file_name or 'an upload'} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
