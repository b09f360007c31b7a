"""What a merchant pays: versioned contracts, the append-only usage ledger and
frozen monthly statements."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from tenants.models import Tenant

# A contact the AI closed only counts as AI-resolved if the customer does not
# come back within this window (the SLA's definition of deflection).
REOPEN_WINDOW = timedelta(hours=72)


class Contract(models.Model):
    """Fixed fees per resolution, the deflection floor promised in the SLA and the
    credit owed when the month falls below it.

    Versioned by effective date: a tenant's versions are ordered by ``starts_on``
    and each one applies until the next one starts (or until its own
    ``ends_on``). Two versions may not start on the same day, and an explicit
    ``ends_on`` may not reach into the next version."""

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
    floor_credit_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        help_text="Credit on the month's resolution charges, in percent, when deflection "
        "ends the month below the floor.",
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
            ),
            models.CheckConstraint(
                condition=models.Q(floor_credit_percent__gte=0, floor_credit_percent__lte=100),
                name="floor_credit_is_a_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["tenant", "starts_on"], name="one_contract_version_per_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug} from {self.starts_on}"

    def clean(self) -> None:
        """Reject a version that overlaps another version of the same tenant."""
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A contract cannot end before it starts."})
        others = Contract.objects.filter(tenant_id=self.tenant_id).exclude(pk=self.pk)
        if others.filter(starts_on=self.starts_on).exists():
            raise ValidationError(
                {"starts_on": f"Another version already starts on {self.starts_on}."}
            )
        following = others.filter(starts_on__gt=self.starts_on).order_by("starts_on").first()
        if following and self.ends_on is not None and self.ends_on >= following.starts_on:
            raise ValidationError(
                {"ends_on": f"Runs into the version starting on {following.starts_on}."}
            )
        previous = others.filter(starts_on__lt=self.starts_on).order_by("-starts_on").first()
        if previous and previous.ends_on is not None and previous.ends_on >= self.starts_on:
            raise ValidationError(
                {
                    "starts_on": f"The version from {previous.starts_on} runs until {previous.ends_on}."
                }
            )

    def applies_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class UsageRecord(models.Model):
    """One line of the usage ledger. Append-only (a database trigger rejects
    UPDATE and DELETE): corrections are new rows, never edits.

    Each resolution writes exactly one ``ai_resolution`` or ``human_resolution``
    row. An AI resolution reopened within the window is corrected by two more
    rows pointing at it through ``corrects``: an ``ai_reversal`` (the AI fee
    credited back, the explicit exclusion) and a ``human_conversion`` (the contact
    billed as human-resolved). ``basis`` keeps the evidence for each row."""

    class Kind(models.TextChoices):
        AI_RESOLUTION = "ai_resolution", "AI-resolved"
        HUMAN_RESOLUTION = "human_resolution", "Human-resolved"
        AI_REVERSAL = "ai_reversal", "AI resolution reversed (reopened)"
        HUMAN_CONVERSION = "human_conversion", "Converted to human-resolved (reopened)"

    RESOLUTION_KINDS = (Kind.AI_RESOLUTION, Kind.HUMAN_RESOLUTION)
    CORRECTION_KINDS = (Kind.AI_REVERSAL, Kind.HUMAN_CONVERSION)

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
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="The resolution row this reversal or conversion corrects.",
    )
    basis = models.JSONField(
        default=dict, blank=True, help_text="Evidence of why this row counts (or stops counting)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact_ref", "resolution_number"],
                condition=models.Q(kind__in=["ai_resolution", "human_resolution"]),
                name="one_usage_per_resolution",
            ),
            models.UniqueConstraint(
                fields=["corrects", "kind"],
                condition=models.Q(corrects__isnull=False),
                name="one_correction_of_each_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["ai_resolution", "human_resolution"], corrects__isnull=True
                )
                | models.Q(kind__in=["ai_reversal", "human_conversion"], corrects__isnull=False),
                name="corrections_point_at_a_resolution",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit_price} {self.currency}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Usage records are append-only")
        super().save(*args, **kwargs)


class Statement(models.Model):
    """A tenant's frozen monthly statement: line items, totals, deflection against
    the floor and the floor credit, as they stood when the month was closed.

    Written once by ``billing.actions.freeze_statement`` after the reopen window
    of the month's last resolutions has passed; never edited afterwards."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(help_text="First day of the month, in the tenant's time zone.")
    time_zone = models.CharField(max_length=64)
    currency = models.CharField(max_length=3)
    lines = models.JSONField(default=list)
    record_count = models.PositiveIntegerField(default=0)
    ai_count = models.IntegerField(default=0)
    human_count = models.IntegerField(default=0)
    reversed_count = models.IntegerField(default=0)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    deflection_rate = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    deflection_floor = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    is_below_floor = models.BooleanField(default=False)
    floor_credit_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    floor_credit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    frozen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"], name="one_statement_per_month"),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="statement_month_starts_on_day_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug} {self.month:%Y-%m}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Frozen statements are never edited")
        super().save(*args, **kwargs)
