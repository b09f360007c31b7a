"""What a merchant pays: contracts and the append-only usage ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone

from tenants.models import Tenant


class Contract(models.Model):
    """Fixed fees per resolution and the deflection floor promised in the SLA."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="contracts")
    currency = models.CharField(max_length=3, default="USD")
    ai_resolution_price = models.DecimalField(max_digits=8, decimal_places=2)
    human_resolution_price = models.DecimalField(max_digits=8, decimal_places=2)
    deflection_floor = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.700"),
        help_text="Share of resolutions the AI must make alone, e.g. 0.700 for 70%.",
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deflection_floor__gte=0, deflection_floor__lte=1),
                name="deflection_floor_is_a_share",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug} from {self.starts_on}"


class UsageRecord(models.Model):
    """One billable resolution. Append-only: corrections are new rows, never edits."""

    class Kind(models.TextChoices):
        AI_RESOLUTION = "ai_resolution", "AI-resolved"
        HUMAN_RESOLUTION = "human_resolution", "Human-resolved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="usage_records")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="usage_records")
    # The contact's public id: billing sits below the desk and does not import it.
    contact_ref = models.UUIDField()
    resolution_number = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    unit_price = models.DecimalField(max_digits=8, decimal_places=2)
    currency = models.CharField(max_length=3)
    occurred_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact_ref", "resolution_number"],
                name="one_usage_per_resolution",
            )
        ]
        indexes = [models.Index(fields=["tenant", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit_price} {self.currency}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Usage records are append-only")
        super().save(*args, **kwargs)
