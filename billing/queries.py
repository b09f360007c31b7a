"""Read side of billing: month-to-date figures for a tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum

from billing.models import Contract, UsageRecord
from tenants.models import Tenant


@dataclass(frozen=True)
class PeriodSummary:
    start: date
    end: date
    ai_count: int
    human_count: int
    ai_amount: Decimal
    human_amount: Decimal
    currency: str
    deflection_floor: Decimal | None

    @property
    def total_count(self) -> int:
        return self.ai_count + self.human_count

    @property
    def total_amount(self) -> Decimal:
        return self.ai_amount + self.human_amount

    @property
    def deflection_rate(self) -> Decimal | None:
        if not self.total_count:
            return None
        return (Decimal(self.ai_count) / Decimal(self.total_count)).quantize(Decimal("0.001"))

    @property
    def meets_floor(self) -> bool | None:
        if self.deflection_rate is None or self.deflection_floor is None:
            return None
        return self.deflection_rate >= self.deflection_floor

    @property
    def cost_per_contact(self) -> Decimal | None:
        if not self.total_count:
            return None
        return (self.total_amount / self.total_count).quantize(Decimal("0.01"))


def month_summary(tenant: Tenant, month_start: date, next_month_start: date) -> PeriodSummary:
    """Net counts and amounts of a calendar month in the tenant's own time zone: an AI
    resolution reopened within the window counts as human-resolved (two queries)."""
    zone = ZoneInfo(tenant.time_zone)
    start = datetime.combine(month_start, time.min, tzinfo=zone)
    end = datetime.combine(next_month_start, time.min, tzinfo=zone)
    kinds = UsageRecord.Kind
    ai = Q(kind__in=[kinds.AI_RESOLUTION, kinds.AI_REVERSAL])
    human = Q(kind__in=[kinds.HUMAN_RESOLUTION, kinds.HUMAN_CONVERSION])
    totals = UsageRecord.objects.filter(
        tenant=tenant, occurred_at__gte=start, occurred_at__lt=end
    ).aggregate(
        ai_made=Count("pk", filter=Q(kind=kinds.AI_RESOLUTION)),
        ai_reversed=Count("pk", filter=Q(kind=kinds.AI_REVERSAL)),
        human_count=Count("pk", filter=human),
        ai_amount=Sum("unit_price", filter=ai),
        human_amount=Sum("unit_price", filter=human),
    )
    contract = (
        Contract.objects.filter(tenant=tenant, starts_on__lt=next_month_start)
        .exclude(ends_on__lt=month_start)
        .order_by("-starts_on")
        .first()
    )
    return PeriodSummary(
        start=month_start,
        end=next_month_start,
        ai_count=totals["ai_made"] - totals["ai_reversed"],
        human_count=totals["human_count"],
        ai_amount=totals["ai_amount"] or Decimal("0"),
        human_amount=totals["human_amount"] or Decimal("0"),
        currency=contract.currency if contract else tenant.currency,
        deflection_floor=contract.deflection_floor if contract else None,
    )
