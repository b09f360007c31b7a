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
    # AI resolutions billed in the period, and those of them reopened within the
    # reopen window (reversed on the ledger, the reversal dated at the resolution).
    ai_resolutions: int = 0
    ai_reopened: int = 0

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
    def reopen_rate(self) -> Decimal | None:
        """The share of AI resolutions that came back within the window: the
        deflections that did not hold."""
        if not self.ai_resolutions:
            return None
        return (Decimal(self.ai_reopened) / Decimal(self.ai_resolutions)).quantize(Decimal("0.001"))

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
    return period_summaries([(tenant, month_start, next_month_start)])[tenant.pk]


def period_summaries(periods: list[tuple[Tenant, date, date]]) -> dict[int, PeriodSummary]:
    """``month_summary`` for several tenants at once, each over its own days
    [first, after last) in its own time zone: two queries whatever their number
    (a cross-tenant board would otherwise make two per tenant)."""
    if not periods:
        return {}
    kinds = UsageRecord.Kind
    ai = Q(kind__in=[kinds.AI_RESOLUTION, kinds.AI_REVERSAL])
    human = Q(kind__in=[kinds.HUMAN_RESOLUTION, kinds.HUMAN_CONVERSION])
    windows = Q()
    for tenant, first, after_last in periods:
        zone = ZoneInfo(tenant.time_zone)
        windows |= Q(
            tenant=tenant,
            occurred_at__gte=datetime.combine(first, time.min, tzinfo=zone),
            occurred_at__lt=datetime.combine(after_last, time.min, tzinfo=zone),
        )
    totals = {
        row["tenant_id"]: row
        for row in UsageRecord.objects.filter(windows)
        .values("tenant_id")
        .annotate(
            ai_made=Count("pk", filter=Q(kind=kinds.AI_RESOLUTION)),
            ai_reversed=Count("pk", filter=Q(kind=kinds.AI_REVERSAL)),
            human_count=Count("pk", filter=human),
            ai_amount=Sum("unit_price", filter=ai),
            human_amount=Sum("unit_price", filter=human),
        )
        .order_by()
    }
    # The version in force over the period: the latest one started before its end
    # and not ended before its start.
    versions: dict[int, list[Contract]] = {}
    for contract in Contract.objects.filter(tenant_id__in=[t.pk for t, _, _ in periods]).order_by(
        "tenant_id", "-starts_on"
    ):
        versions.setdefault(contract.tenant_id, []).append(contract)
    out = {}
    for tenant, first, after_last in periods:
        row = totals.get(tenant.pk, {})
        contract = next(
            (
                c
                for c in versions.get(tenant.pk, [])
                if c.starts_on < after_last and (c.ends_on is None or c.ends_on >= first)
            ),
            None,
        )
        out[tenant.pk] = PeriodSummary(
            start=first,
            end=after_last,
            ai_count=row.get("ai_made", 0) - row.get("ai_reversed", 0),
            human_count=row.get("human_count", 0),
            ai_amount=row.get("ai_amount") or Decimal("0"),
            human_amount=row.get("human_amount") or Decimal("0"),
            currency=contract.currency if contract else tenant.currency,
            deflection_floor=contract.deflection_floor if contract else None,
            ai_resolutions=row.get("ai_made", 0),
            ai_reopened=row.get("ai_reversed", 0),
        )
    return out
