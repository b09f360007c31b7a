"""Read side of the SLA boards: one set of figures per tenant over a time range.

Every figure is an aggregate grouped by tenant, so a board costs the same
handful of queries for one merchant or twenty and for a hundred contacts or a
million. Whole days come from the daily rollup (``desk.rollups``), the partial
days at the range's ends from the raw tables over covering partial indexes
(migrations 0005-0006); durations are percentiles read from histograms.
Money comes from the billing ledger through ``billing.queries.period_summaries``,
the same numbers the merchant's statement shows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from billing.models import UsageRecord
from billing.queries import PeriodSummary, period_summaries
from desk import rollups
from desk.models import Contact, SlaClock
from tenants.models import Tenant

LEGACY_COST_PER_CONTACT = Decimal("6.20")
# Open contacts by age: label, lower bound, upper bound (None = no bound).
AGE_BUCKETS = (
    ("under 1 h", None, timedelta(hours=1)),
    ("1-4 h", timedelta(hours=1), timedelta(hours=4)),
    ("4-24 h", timedelta(hours=4), timedelta(hours=24)),
    ("1-3 days", timedelta(hours=24), timedelta(days=3)),
    ("over 3 days", timedelta(days=3), None),
)
RANGES = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "mtd": "Month to date",
}
# A live board opens on the last day; longer ranges scan more rows and are on demand.
DEFAULT_RANGE = "24h"
OPEN_STATUSES = (Contact.Status.RECEIVED, Contact.Status.ESCALATED, Contact.Status.EXECUTING)


class Duration(float):
    """Seconds that print the way people read them: "11 s", "3 min 20 s", "5 h 4 min"."""

    def __str__(self) -> str:
        seconds = round(self)
        if seconds < 60:
            return f"{seconds} s"
        if seconds < 3600:
            minutes, rest = divmod(seconds, 60)
            return f"{minutes} min {rest} s" if rest else f"{minutes} min"
        hours, rest = divmod(seconds, 3600)
        if hours < 48:
            return f"{hours} h {rest // 60} min"
        return f"{hours / 24:.1f} days"


def _duration(value: float | None) -> Duration | None:
    return None if value is None else Duration(value)


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime
    end: datetime

    def days(self, zone: ZoneInfo) -> tuple[date, date]:
        """The calendar days the period touches in ``zone``, end exclusive (for billing)."""
        return self.start.astimezone(zone).date(), self.end.astimezone(zone).date() + timedelta(1)


def period(key: str | None, now: datetime, zone: ZoneInfo) -> Period:
    """The selected range ending now; month to date starts at the month's first
    midnight in the given zone (the tenant's, on a tenant board)."""
    key = key if key in RANGES else DEFAULT_RANGE
    if key == "mtd":
        local = now.astimezone(zone)
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        start = (
            now - {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(30)}[key]
        )
    return Period(key=key, label=RANGES[key], start=start, end=now)


@dataclass
class CsatSplit:
    count: int = 0
    average: float | None = None
    satisfied: int = 0  # 4 or 5 out of 5, the industry's CSAT percentage

    @property
    def percent(self) -> float | None:
        return round(100 * self.satisfied / self.count, 1) if self.count else None


@dataclass
class TenantFigures:
    """What a board shows for one tenant over one period."""

    tenant: Tenant
    ai_resolved: int = 0
    human_resolved: int = 0
    first_response: tuple[float | None, float | None] = (None, None)  # median, p90 seconds
    resolution: tuple[float | None, float | None] = (None, None)
    wismo_handle_ai: float | None = None
    wismo_handle_human: float | None = None
    refunds: int = 0
    refund_cycle_p80: float | None = None
    refunds_under_target: int = 0
    backlog: list[tuple[str, int]] = field(default_factory=list)
    breaches: dict[str, int] = field(default_factory=dict)  # target label → count
    csat_ai: CsatSplit = field(default_factory=CsatSplit)
    csat_human: CsatSplit = field(default_factory=CsatSplit)
    money: PeriodSummary | None = None
    alert_count: int = 0  # open alerts, filled in by the view that shows them

    @property
    def resolved(self) -> int:
        return self.ai_resolved + self.human_resolved

    @property
    def ai_share(self) -> Decimal | None:
        """Contract deflection (reopens count as human) when the ledger has the period,
        else the contacts' own split."""
        if self.money is not None and self.money.deflection_rate is not None:
            return self.money.deflection_rate
        if not self.resolved:
            return None
        return (Decimal(self.ai_resolved) / self.resolved).quantize(Decimal("0.001"))

    @property
    def floor(self) -> Decimal | None:
        return self.money.deflection_floor if self.money else None

    @property
    def reopen_rate(self) -> Decimal | None:
        """AI resolutions that came back within the reopen window, from the ledger."""
        return self.money.reopen_rate if self.money else None

    @property
    def reopen_percent(self) -> float | None:
        rate = self.reopen_rate
        return None if rate is None else round(float(rate) * 100, 1)

    @property
    def ai_reopened(self) -> int:
        return self.money.ai_reopened if self.money else 0

    @property
    def meets_floor(self) -> bool | None:
        if self.ai_share is None or self.floor is None:
            return None
        return self.ai_share >= self.floor

    @property
    def backlog_total(self) -> int:
        return sum(n for _, n in self.backlog)

    @property
    def backlog_over_day(self) -> int:
        return sum(
            n
            for (_, low, _), (_, n) in zip(AGE_BUCKETS, self.backlog, strict=True)
            if low is not None and low >= timedelta(hours=24)
        )

    @property
    def breaches_total(self) -> int:
        return sum(self.breaches.values())

    @property
    def cost_per_contact(self) -> Decimal | None:
        return self.money.cost_per_contact if self.money else None

    @property
    def saving_per_contact(self) -> Decimal | None:
        cost = self.cost_per_contact
        return None if cost is None else LEGACY_COST_PER_CONTACT - cost

    @property
    def refund_share_under_target(self) -> float | None:
        return round(100 * self.refunds_under_target / self.refunds, 1) if self.refunds else None


# --- the queries ---------------------------------------------------------------------


def _fill(f: TenantFigures, facts: rollups.Facts) -> None:
    """Turn a tenant's counts and histograms into its figures."""
    counts = facts.counts

    def hist(metric: str) -> rollups.Histogram:
        return facts.histograms.get(metric) or rollups.Histogram()

    f.ai_resolved = counts.get("resolved:ai", 0)
    f.human_resolved = counts.get("resolved:human", 0)
    for name in ("first_response", "resolution"):
        median, p90 = hist(name).percentile(0.5), hist(name).percentile(0.9)
        setattr(f, name, (_duration(median), _duration(p90)))
    f.wismo_handle_ai = _duration(hist("wismo_ai").percentile(0.5))
    f.wismo_handle_human = _duration(hist("wismo_human").percentile(0.5))
    f.refunds = hist("refund_cycle").total
    f.refund_cycle_p80 = _duration(hist("refund_cycle").percentile(0.8))
    f.refunds_under_target = counts.get("refund_on_time", 0)
    for metric, n in sorted(counts.items()):
        if metric.startswith("breach:") and n:
            f.breaches[SlaClock.Target(metric.removeprefix("breach:")).label] = n
    for resolution, attr in (("ai", "csat_ai"), ("human", "csat_human")):
        scores = hist(f"csat:{resolution}")
        if scores.total:
            split = CsatSplit(
                count=scores.total,
                average=sum(s * n for s, n in scores.items()) / scores.total,
                satisfied=sum(n for s, n in scores.items() if s >= 4),  # 4 or 5 out of 5
            )
            setattr(f, attr, split)


def figures(tenants: list[Tenant], span: Period, now: datetime) -> list[TenantFigures]:
    """The board for ``tenants``: the same handful of queries for one tenant or
    twenty: stale days, the rollup, the partial days (two), the backlog and the
    ledger (two); more only when a closed day has to be summarised first.

    Whole local days inside the range come from the daily rollup, the partial
    days at its ends from the raw tables (see ``desk.rollups`` for the precision)."""
    out = {t.pk: TenantFigures(tenant=t) for t in tenants}
    ids = list(out)
    splits = {t.pk: rollups.split(span.start, span.end, ZoneInfo(t.time_zone)) for t in tenants}
    ranges = [(tid, s.first_day, s.after_last_day) for tid, s in splits.items() if s.first_day]
    # 1. closed days nobody summarised yet, or changed since (normally the beat
    #    task got there first and this finds none)
    rollups.refresh(rollups.stale_days(ranges), now)
    # 2. the whole days, summed from the rollup
    facts = rollups.summed_facts(ranges)
    # 3. the partial days at both ends, from the raw tables
    windows = [(tid, lo, hi, tid) for tid, s in splits.items() for lo, hi in s.raw]
    for tid, metric, value, n in rollups.raw_facts(windows):
        facts[tid].add(metric, value, n)
    for tid, tenant_facts in facts.items():
        _fill(out[tid], tenant_facts)
    # 4. the open backlog by age, now (not range-bound: a backlog is a present fact)
    buckets = {}
    for label, low, high in AGE_BUCKETS:
        condition = Q()
        if low is not None:
            condition &= Q(created_at__lte=now - low)
        if high is not None:
            condition &= Q(created_at__gt=now - high)
        buckets[label] = Count("pk", filter=condition)
    for row in (
        Contact.objects.filter(tenant_id__in=ids, status__in=OPEN_STATUSES)
        .values("tenant_id")
        .annotate(**{f"b{i}": agg for i, agg in enumerate(buckets.values())})
        .order_by()
    ):
        out[row["tenant_id"]].backlog = [(label, row[f"b{i}"]) for i, label in enumerate(buckets)]
    for f in out.values():
        f.backlog = f.backlog or [(label, 0) for label in buckets]
    # 5. money at contract prices, from the ledger (two queries for all tenants)
    money = period_summaries([(t, *span.days(ZoneInfo(t.time_zone))) for t in tenants])
    for f in out.values():
        f.money = money[f.tenant.pk]
    return [out[t.pk] for t in tenants]


@dataclass(frozen=True)
class BurnDown:
    """Month to date, day by day: cumulative AI share against the floor, and how
    many more human resolutions the month can take before it drops below."""

    days: list[tuple[date, int, int, Decimal | None]]  # day, ai, human, cumulative share
    floor: Decimal | None
    headroom: int | None

    def chart(self, width: int = 560, height: int = 160) -> dict:
        """Polyline points for the share and the floor, on a 0-100 % scale."""
        if not self.days:
            return {}
        step = width / max(1, len(self.days) - 1)

        def y(share: Decimal | None) -> float:
            return round(height - float(share or 0) * height, 1)

        points = " ".join(
            f"{round(i * step, 1)},{y(share)}"
            for i, (_, _, _, share) in enumerate(self.days)
            if share is not None
        )
        return {
            "width": width,
            "height": height,
            "points": points,
            "floor_y": y(self.floor) if self.floor is not None else None,
            "labels": [
                (round(i * step, 1), d.day)
                for i, (d, *_rest) in enumerate(self.days)
                if i % 5 == 0 or i == len(self.days) - 1
            ],
        }


def burn_down(tenant: Tenant, now: datetime, floor: Decimal | None) -> BurnDown:
    """One grouped ledger query for the tenant's month so far (its own time zone).
    A reopen's reversal takes an AI resolution back; its conversion adds a human one."""
    zone = ZoneInfo(tenant.time_zone)
    local = now.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    kinds = UsageRecord.Kind
    per_day = {
        row["day"]: row
        for row in UsageRecord.objects.filter(
            tenant=tenant, occurred_at__gte=start, occurred_at__lt=now
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("day")
        .annotate(
            ai=Count("pk", filter=Q(kind=kinds.AI_RESOLUTION)),
            reversed=Count("pk", filter=Q(kind=kinds.AI_REVERSAL)),
            human=Count("pk", filter=Q(kind__in=[kinds.HUMAN_RESOLUTION, kinds.HUMAN_CONVERSION])),
        )
        .order_by("day")
    }
    days, ai_total, human_total = [], 0, 0
    day = start.date()
    while day <= local.date():
        row = per_day.get(day)
        if row:
            ai_total += row["ai"] - row["reversed"]
            human_total += row["human"]
        total = ai_total + human_total
        share = (Decimal(ai_total) / total).quantize(Decimal("0.001")) if total else None
        days.append((day, ai_total, human_total, share))
        day += timedelta(days=1)
    headroom = None
    if floor is not None and floor > 0:
        # Human resolutions h keep ai / (ai + h) ≥ floor while h ≤ ai (1 - floor) / floor.
        headroom = int(ai_total * (1 - floor) / floor) - human_total
    return BurnDown(days=days, floor=floor, headroom=headroom)


def bars(
    values: list[tuple[str, float | None]],
    *,
    width: int = 240,
    top: float | None = None,
    row: int = 20,
) -> dict:
    """Geometry of a horizontal bar chart: each bar's label, value, length and row
    offset, scaled to ``top`` (or the largest value)."""
    top = top or max((v or 0 for _, v in values), default=0) or 1
    return {
        "height": row * len(values) + 4,
        "rows": [
            {
                "label": label,
                "value": value,
                "y": row * i,
                "width": round(width * (value or 0) / top, 1),
            }
            for i, (label, value) in enumerate(values)
        ],
    }


# --- export -----------------------------------------------------------------------------

CSV_HEADER = [
    "tenant",
    "period_start",
    "period_end",
    "ai_resolved",
    "human_resolved",
    "ai_share",
    "deflection_floor",
    "backlog_open",
    "breaches",
    "first_response_median_s",
    "first_response_p90_s",
    "resolution_median_s",
    "resolution_p90_s",
    "wismo_handle_ai_median_s",
    "wismo_handle_human_median_s",
    "refunds",
    "refund_cycle_p80_s",
    "refunds_under_4h_pct",
    "csat_ai_pct",
    "csat_ai_responses",
    "csat_human_pct",
    "csat_human_responses",
    "cost_per_contact",
    "currency",
    "legacy_cost_per_contact",
    "ai_reopened",
    "ai_reopen_rate",
]


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def to_csv(rows: list[TenantFigures], span: Period) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for f in rows:
        writer.writerow(
            [
                f.tenant.slug,
                span.start.isoformat(),
                span.end.isoformat(),
                f.ai_resolved,
                f.human_resolved,
                _num(f.ai_share),
                _num(f.floor),
                f.backlog_total,
                f.breaches_total,
                *map(_num, f.first_response),
                *map(_num, f.resolution),
                _num(f.wismo_handle_ai),
                _num(f.wismo_handle_human),
                f.refunds,
                _num(f.refund_cycle_p80),
                _num(f.refund_share_under_target),
                _num(f.csat_ai.percent),
                f.csat_ai.count,
                _num(f.csat_human.percent),
                f.csat_human.count,
                _num(f.cost_per_contact),
                f.money.currency if f.money else "",
                LEGACY_COST_PER_CONTACT,
                f.ai_reopened,
                _num(f.reopen_rate),
            ]
        )
    return out.getvalue()
