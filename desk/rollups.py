"""Daily rollups behind the SLA boards: each tenant's closed local days, summarised.

A board over 30 days would otherwise sort every resolved contact of the month
to find medians. Instead, every day that has ended in the tenant's time zone
is summarised once into ``BoardDayFigure`` rows: plain counts, and histograms
of durations from which medians and percentiles are read back. A board then
adds up those rows for the whole days of its range and reads only the two
partial days at its ends (the start of the range, and today so far) from the
raw tables, through the same SQL, so both halves count the same way.

Precision: a duration is kept to the second below one hour, to the minute
below two days and to the hour beyond, which is the precision the board prints
it at. A percentile read from the histogram is within half a bucket of the one
PostgreSQL would compute over the raw rows (±0.5 s, ±30 s, ±30 min); counts,
CSAT averages and the refunds-within-4-h share are exact.

Freshness: every write that counts on a board notes its local day in
``BoardDayChange`` (``note_change``). A summarised day with a noted change, or a
closed day never summarised, is recomputed by the beat task
(``refresh_due``) and, should a board get there first, by the board itself
before it reads (``stale_days`` + ``refresh``), so a late write (a resolution
stamped in the past, a CSAT score changed days later) never leaves a board wrong.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from desk.models import BoardDay, BoardDayChange, BoardDayFigure, SlaClock
from tenants.models import Tenant

REFUND_CYCLE_TARGET = timedelta(hours=4)
# How far back the beat task keeps days summarised: the longest board range and a margin.
KEEP_DAYS = 35


def bucket(seconds: float) -> int:
    """The bucket a duration is counted in (mirrors ``_bucket_sql``): whole
    seconds, minutes or hours, rounded half up."""
    if seconds < 3600:
        return math.floor(seconds + 0.5)
    if seconds < 48 * 3600:
        return math.floor(seconds / 60 + 0.5) * 60
    return math.floor(seconds / 3600 + 0.5) * 3600


def _bucket_sql(expr: str) -> str:
    return (
        f"(CASE WHEN {expr} < 3600 THEN floor({expr} + 0.5)"
        f" WHEN {expr} < 172800 THEN floor({expr} / 60 + 0.5) * 60"
        f" ELSE floor({expr} / 3600 + 0.5) * 3600 END)::bigint"
    )


_WINDOWS = """
WITH w (tenant_id, lo, hi, slot) AS (
    SELECT * FROM unnest(%(tenants)s::bigint[], %(los)s::timestamptz[], %(his)s::timestamptz[],
        %(slots)s::bigint[])
)"""

# Resolved contacts in windows ``w`` [lo, hi) per tenant, grouped by slot, who
# resolved, and the buckets of their durations: one pass over the board's
# covering index. Measured on a million contacts, this beats four GROUP BYs or
# grouping sets by half; the durations are float8 seconds (cheaper than
# numeric), worked out once below the fence (OFFSET 0) rather than once per
# use in the bucket expressions.
RESOLVED_SQL = f"""{_WINDOWS}
SELECT slot, resolution, is_wismo,
    {_bucket_sql("first_s")}, {_bucket_sql("resolution_s")}, {_bucket_sql("handle_s")}, count(*)
FROM (
    SELECT w.slot, c.resolution, c.intent = 'wismo' AS is_wismo,
        date_part('epoch', coalesce(fr.stopped_at, c.resolved_at) - c.created_at) AS first_s,
        date_part('epoch', c.resolved_at - c.created_at) AS resolution_s,
        CASE WHEN c.intent = 'wismo' AND c.resolution = 'human' THEN date_part('epoch',
            c.resolved_at - coalesce(c.claimed_at, c.escalated_at, c.created_at)) END AS handle_s
    FROM w JOIN desk_contact c ON c.tenant_id = w.tenant_id
        AND c.resolved_at >= w.lo AND c.resolved_at < w.hi
    LEFT JOIN desk_slaclock fr ON fr.contact_id = c.id AND fr.target = %(first_response)s
        AND fr.state = %(stopped)s
    OFFSET 0
) AS durations
GROUP BY 1, 2, 3, 4, 5, 6
"""  # noqa: S608 - only the constant bucket expressions are interpolated
# First response: the first-response clock's stop (set at the first reply) where
# one ran; an AI resolution's reply is its first response, so resolved_at otherwise.
# Human-assisted handle time counts from the claim, when a person picked it up.

# Refunds, breaches and CSAT answers in the windows: (slot, metric, value, count),
# each counted in the window of its own timestamp.
OTHER_SQL = f"""{_WINDOWS}, refunds AS (
    SELECT w.slot, p.executed_at - c.escalated_at AS cycle
    FROM w JOIN desk_proposal p ON p.tenant_id = w.tenant_id
        AND p.executed_at >= w.lo AND p.executed_at < w.hi
    JOIN desk_contact c ON c.id = p.contact_id
    WHERE p.kind = 'refund' AND p.status = 'executed' AND c.escalated_at IS NOT NULL
)
SELECT slot, 'refund_cycle', {_bucket_sql("date_part('epoch', cycle)")}, count(*) FROM refunds
GROUP BY 1, 3
UNION ALL
SELECT slot, 'refund_on_time', 0, count(*) FROM refunds WHERE cycle <= %(target)s GROUP BY 1
UNION ALL
SELECT w.slot, 'breach:' || b.target, 0, count(*)
FROM w JOIN desk_slabreach b ON b.tenant_id = w.tenant_id
    AND b.breached_at >= w.lo AND b.breached_at < w.hi
GROUP BY 1, 2
UNION ALL
SELECT w.slot, 'csat:' || r.resolution, r.score, count(*)
FROM w JOIN desk_csatresponse r ON r.tenant_id = w.tenant_id
    AND r.created_at >= w.lo AND r.created_at < w.hi
GROUP BY 1, 2, 3
"""  # noqa: S608 - only the constant bucket expressions are interpolated

SUMMED_SQL = """
SELECT f.tenant_id, f.metric, f.value, sum(f.count)
FROM desk_boarddayfigure f
JOIN unnest(%(tenants)s::bigint[], %(firsts)s::date[], %(afters)s::date[]) AS r (tenant_id, lo, hi)
    ON f.tenant_id = r.tenant_id AND f.day >= r.lo AND f.day < r.hi
GROUP BY 1, 2, 3
"""

# Days in the ranges that were never summarised, and days with a change noted
# since. (Joins rather than a subquery per day: a 20-tenant month is 600 days.)
STALE_SQL = """
WITH r (tenant_id, lo, hi) AS (
    SELECT * FROM unnest(%(tenants)s::bigint[], %(firsts)s::date[], %(afters)s::date[])
), days AS (
    SELECT r.tenant_id, d.day::date AS day
    FROM r, generate_series(r.lo::timestamp, (r.hi - 1)::timestamp, interval '1 day') AS d (day)
)
SELECT days.tenant_id, days.day FROM days
LEFT JOIN desk_boardday b ON b.tenant_id = days.tenant_id AND b.day = days.day
WHERE b.id IS NULL
UNION
SELECT ch.tenant_id, ch.day FROM r
JOIN desk_boarddaychange ch ON ch.tenant_id = r.tenant_id AND ch.day >= r.lo AND ch.day < r.hi
ORDER BY 1, 2
"""


# --- histograms --------------------------------------------------------------------------


class Histogram(dict):
    """Bucket value → count; percentiles as PostgreSQL's percentile_cont reads them
    (linear interpolation between the two nearest ranks)."""

    def add(self, value: int, count: int) -> None:
        self[value] = self.get(value, 0) + count

    @property
    def total(self) -> int:
        return sum(self.values())

    def percentile(self, fraction: float) -> float | None:
        n = self.total
        if not n:
            return None
        position = fraction * (n - 1)
        low_rank, high_rank = math.floor(position), math.ceil(position)
        low = high = None
        seen = 0
        for value in sorted(self):
            seen += self[value]
            if low is None and seen > low_rank:
                low = value
            if seen > high_rank:
                high = value
                break
        return low + (position - low_rank) * (high - low)


@dataclass
class Facts:
    """Everything a board reads for one tenant over some windows, before it is
    turned into figures: counts by metric, and histograms by metric."""

    counts: dict[str, int]
    histograms: dict[str, Histogram]

    @classmethod
    def empty(cls) -> Facts:
        return cls(counts=defaultdict(int), histograms=defaultdict(Histogram))

    def add(self, metric: str, value: int, count: int) -> None:
        self.counts[metric] += count
        self.histograms[metric].add(value, count)


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def raw_facts(windows: list[tuple[int, datetime, datetime, int]]) -> list[tuple]:
    """(slot, metric, value, count) rows over the raw tables for the given
    (tenant id, start, end, slot) windows; two queries."""
    if not windows:
        return []
    tenants, los, his, slots = (list(column) for column in zip(*windows, strict=True))
    params = {
        "tenants": tenants,
        "los": los,
        "his": his,
        "slots": slots,
        "first_response": SlaClock.Target.FIRST_RESPONSE,
        "stopped": SlaClock.State.STOPPED,
        "target": REFUND_CYCLE_TARGET,
    }
    out: dict[tuple[int, str, int], int] = defaultdict(int)
    for slot, resolution, is_wismo, first, resolved, handle, n in _rows(RESOLVED_SQL, params):
        out[slot, f"resolved:{resolution}", 0] += n
        out[slot, "first_response", first] += n
        out[slot, "resolution", resolved] += n
        if is_wismo and resolution == "ai":
            out[slot, "wismo_ai", resolved] += n
        elif is_wismo and resolution == "human":
            out[slot, "wismo_human", handle] += n
    rows = [(*key, n) for key, n in out.items()]
    return rows + _rows(OTHER_SQL, params)


# --- days ------------------------------------------------------------------------------


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant a local day starts, in UTC (23 or 25 hours apart across DST)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Split:
    """A range [start, end) cut at the tenant's local midnights: the whole days
    in the middle come from the rollup, the partial ends from raw rows."""

    first_day: date | None  # first whole day, None when the range holds none
    after_last_day: date | None
    raw: tuple[tuple[datetime, datetime], ...]


def split(start: datetime, end: datetime, zone: ZoneInfo) -> Split:
    first = local_day(start, zone)
    if midnight(first, zone) < start:
        first += timedelta(days=1)
    after_last = local_day(end, zone)
    if first >= after_last:
        return Split(None, None, ((start, end),))
    edges = ((start, midnight(first, zone)), (midnight(after_last, zone), end))
    return Split(first, after_last, tuple((lo, hi) for lo, hi in edges if hi > lo))


# --- keeping days summarised ------------------------------------------------------------------


def note_change(tenant: Tenant, *moments: datetime | None) -> None:
    """Record that board figures changed on the local days of ``moments``. Call
    inside the writing transaction, so the note commits (or rolls back) with the
    change it describes. One insert per distinct day, no row contention."""
    zone = ZoneInfo(tenant.time_zone)
    days = {local_day(m, zone) for m in moments if m is not None}
    BoardDayChange.objects.bulk_create(
        [BoardDayChange(tenant_id=tenant.pk, day=day) for day in sorted(days)]
    )


def stale_days(ranges: Iterable[tuple[int, date, date]]) -> list[tuple[int, date]]:
    """(tenant id, day) pairs in the given [first, after last) day ranges that were
    never summarised or changed since; one query."""
    ranges = [r for r in ranges if r[1] < r[2]]
    if not ranges:
        return []
    tenants, firsts, afters = (list(column) for column in zip(*ranges, strict=True))
    return [
        (tenant_id, day)
        for tenant_id, day in _rows(
            STALE_SQL, {"tenants": tenants, "firsts": firsts, "afters": afters}
        )
    ]


def refresh(days: list[tuple[int, date]], now: datetime | None = None) -> int:
    """Summarise the given closed (tenant id, day) pairs from the raw tables.

    Safe to run twice and in parallel: the day rows are upserted first, in a
    fixed order, which locks them, so a second refresh of the same day waits and
    then redoes it whole. Change notes are deleted before the raw tables are
    read; a note committed after that stays behind and triggers the next refresh."""
    if not days:
        return 0
    with transaction.atomic():
        return _refresh(sorted(set(days)), now or timezone.now())


def _refresh(days: list[tuple[int, date]], now: datetime) -> int:
    zones = {
        t.pk: ZoneInfo(t.time_zone)
        for t in Tenant.objects.filter(pk__in={tenant_id for tenant_id, _ in days})
    }
    BoardDay.objects.bulk_create(
        [BoardDay(tenant_id=t, day=d, computed_at=now) for t, d in days],
        update_conflicts=True,
        unique_fields=["tenant", "day"],
        update_fields=["computed_at"],
    )
    for tenant_id, tenant_days in _by_tenant(days).items():
        BoardDayChange.objects.filter(tenant_id=tenant_id, day__in=tenant_days).delete()
        BoardDayFigure.objects.filter(tenant_id=tenant_id, day__in=tenant_days).delete()
    windows = [
        (t, midnight(d, zones[t]), midnight(d + timedelta(days=1), zones[t]), slot)
        for slot, (t, d) in enumerate(days)
    ]
    BoardDayFigure.objects.bulk_create(
        [
            BoardDayFigure(
                tenant_id=days[slot][0], day=days[slot][1], metric=metric, value=value, count=n
            )
            for slot, metric, value, n in raw_facts(windows)
        ],
        batch_size=2000,
    )
    return len(days)


def _by_tenant(days: list[tuple[int, date]]) -> dict[int, list[date]]:
    out: dict[int, list[date]] = defaultdict(list)
    for tenant_id, day in days:
        out[tenant_id].append(day)
    return out


def refresh_due(now: datetime | None = None, *, limit: int = 200) -> int:
    """Summarise the closed days of the last KEEP_DAYS that are missing or changed,
    for every tenant, oldest first, at most ``limit`` per run (the beat task)."""
    now = now or timezone.now()
    ranges = []
    for tenant in Tenant.objects.only("pk", "time_zone"):
        today = local_day(now, ZoneInfo(tenant.time_zone))
        ranges.append((tenant.pk, today - timedelta(days=KEEP_DAYS), today))
    due = sorted(stale_days(ranges), key=lambda pair: (pair[1], pair[0]))[:limit]
    return refresh(due, now)


def summed_facts(ranges: list[tuple[int, date, date]]) -> dict[int, Facts]:
    """Summarised facts per tenant over [first, after last) day ranges; one query."""
    out: dict[int, Facts] = defaultdict(Facts.empty)
    ranges = [r for r in ranges if r[1] < r[2]]
    if not ranges:
        return out
    tenants, firsts, afters = (list(column) for column in zip(*ranges, strict=True))
    for tenant_id, metric, value, n in _rows(
        SUMMED_SQL, {"tenants": tenants, "firsts": firsts, "afters": afters}
    ):
        out[tenant_id].add(metric, value, int(n))
    return out
