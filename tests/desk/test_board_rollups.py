"""Board figures over whole days come from the daily rollup and must equal the
same figures computed from the raw rows (within the stated bucket precision)."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from desk import boards, rollups
from desk.actions import ProposalDraft, submit_proposal
from desk.models import (
    BoardDay,
    BoardDayChange,
    Contact,
    CsatResponse,
    Proposal,
    SlaBreach,
    SlaClock,
)
from desk.tasks import refresh_board_days
from tenants.actor import Actor
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# Mid-afternoon in New York, three weeks after clocks went back (1 November 2026).
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont, the board's reference before rollups."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def half_bucket(seconds: float) -> float:
    """The documented precision: half a bucket around the value."""
    return 0.5 if seconds < 3500 else 30.0 if seconds < 47 * 3600 else 1800.0


def _seed_month(tenant, rng: random.Random) -> None:
    """Five weeks of resolutions at every hour of the local day, durations from
    seconds to days, wismo and not, AI and human, with first replies, refunds,
    breaches and CSAT answers."""
    for day_back in range(36):
        for _ in range(rng.randint(3, 7)):
            _resolution(tenant, rng, NOW - timedelta(days=day_back, minutes=rng.randint(0, 1439)))


def _resolution(tenant, rng: random.Random, resolved_at: datetime) -> Contact:
    duration = rng.choice(
        [rng.uniform(3, 50), rng.uniform(60, 3000), rng.uniform(4000, 90000), rng.uniform(2e5, 5e5)]
    )
    by = rng.choice(["ai", "ai", "human"])
    created = resolved_at - timedelta(seconds=duration)
    contact = make_contact(tenant, intent=rng.choice(["wismo", "wismo", "return_request"]))
    escalated = created + timedelta(seconds=duration / 4) if by == "human" else None
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.RESOLVED,
        resolution=by,
        created_at=created,
        resolved_at=resolved_at,
        escalated_at=escalated,
        claimed_at=created + timedelta(seconds=duration / 2) if by == "human" else None,
    )
    if by == "human":
        first = SlaClock.objects.create(
            tenant=tenant,
            contact=contact,
            target=SlaClock.Target.FIRST_RESPONSE,
            state=SlaClock.State.STOPPED,
            budget_seconds=3600,
            started_at=created,
            stopped_at=created + timedelta(seconds=duration / 3),
        )
        if rng.random() < 0.5:
            Proposal.objects.create(
                tenant=tenant,
                contact=contact,
                kind="refund",
                status="executed",
                amount=10,
                executed_at=resolved_at,
            )
        if rng.random() < 0.3:
            SlaBreach.objects.create(
                tenant=tenant,
                contact=contact,
                clock=first,
                target=first.target,
                due_at=created,
                breached_at=resolved_at - timedelta(seconds=duration / 5),
            )
    if rng.random() < 0.4:
        CsatResponse.objects.create(
            tenant=tenant,
            contact=contact,
            resolution=by,
            score=rng.randint(1, 5),
            created_at=resolved_at + timedelta(minutes=rng.randint(1, 600)),
        )
    return contact


def reference(tenant, span: boards.Period) -> dict:
    """The figures straight from the raw rows, without any rollup."""
    resolved = list(
        Contact.objects.filter(
            tenant=tenant, resolved_at__gte=span.start, resolved_at__lt=span.end
        ).prefetch_related("sla_clocks")
    )

    def first_reply(c: Contact) -> datetime:
        stops = [
            k.stopped_at
            for k in c.sla_clocks.all()
            if k.target == SlaClock.Target.FIRST_RESPONSE and k.state == SlaClock.State.STOPPED
        ]
        return stops[0] if stops else c.resolved_at

    seconds = lambda delta: delta.total_seconds()  # noqa: E731
    wismo = [c for c in resolved if c.intent == "wismo"]
    refunds = [
        seconds(p.executed_at - p.contact.escalated_at)
        for p in Proposal.objects.filter(
            tenant=tenant,
            kind="refund",
            status="executed",
            executed_at__gte=span.start,
            executed_at__lt=span.end,
        ).select_related("contact")
    ]
    csat = CsatResponse.objects.filter(
        tenant=tenant, created_at__gte=span.start, created_at__lt=span.end
    )
    return {
        "ai_resolved": sum(c.resolution == "ai" for c in resolved),
        "human_resolved": sum(c.resolution == "human" for c in resolved),
        "first_response": [seconds(first_reply(c) - c.created_at) for c in resolved],
        "resolution": [seconds(c.resolved_at - c.created_at) for c in resolved],
        "wismo_ai": [seconds(c.resolved_at - c.created_at) for c in wismo if c.resolution == "ai"],
        "wismo_human": [
            seconds(c.resolved_at - (c.claimed_at or c.escalated_at or c.created_at))
            for c in wismo
            if c.resolution == "human"
        ],
        "refunds": refunds,
        "refunds_on_time": sum(r <= 4 * 3600 for r in refunds),
        "breaches": SlaBreach.objects.filter(
            tenant=tenant, breached_at__gte=span.start, breached_at__lt=span.end
        ).count(),
        "csat": {by: [r.score for r in csat if r.resolution == by] for by in ("ai", "human")},
    }


def assert_close(actual: float | None, values: list[float], fraction: float) -> None:
    expected = percentile_cont(values, fraction)
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(expected, abs=half_bucket(expected))


def assert_matches(f: boards.TenantFigures, ref: dict) -> None:
    assert (f.ai_resolved, f.human_resolved) == (ref["ai_resolved"], ref["human_resolved"])
    for name in ("first_response", "resolution"):
        median, p90 = getattr(f, name)
        assert_close(median, ref[name], 0.5)
        assert_close(p90, ref[name], 0.9)
    assert_close(f.wismo_handle_ai, ref["wismo_ai"], 0.5)
    assert_close(f.wismo_handle_human, ref["wismo_human"], 0.5)
    assert f.refunds == len(ref["refunds"])
    assert f.refunds_under_target == ref["refunds_on_time"]
    assert_close(f.refund_cycle_p80, ref["refunds"], 0.8)
    assert f.breaches_total == ref["breaches"]
    for split, scores in ((f.csat_ai, ref["csat"]["ai"]), (f.csat_human, ref["csat"]["human"])):
        assert split.count == len(scores)
        assert split.satisfied == sum(s >= 4 for s in scores)
        assert split.average == (pytest.approx(statistics.mean(scores)) if scores else None)


@pytest.fixture
def tenant():
    tenant = make_tenant(time_zone="America/New_York")
    with time_machine.travel(NOW, tick=False):
        _seed_month(tenant, random.Random(20261120))
    return tenant


@pytest.mark.parametrize("key", ["7d", "30d", "mtd"])
def test_rollup_backed_figures_equal_the_raw_ones(tenant, key):
    span = boards.period(key, NOW, NEW_YORK)
    [f] = boards.figures([tenant], span, NOW)
    whole_days = rollups.split(span.start, span.end, NEW_YORK)
    assert whole_days.first_day is not None
    # The board summarised every whole day it read, and read them from the rollup.
    assert (
        BoardDay.objects.filter(tenant=tenant).count()
        == (whole_days.after_last_day - whole_days.first_day).days
    )
    assert f.resolved > 20
    assert_matches(f, reference(tenant, span))


def test_a_late_resolution_for_an_old_day_reaches_the_board(tenant):
    span = boards.period("30d", NOW, NEW_YORK)
    [before] = boards.figures([tenant], span, NOW)
    old_day = NOW - timedelta(days=12)
    # The resolution is written with a timestamp twelve days back (a task that
    # ran with a stale clock, an import): the day was already summarised.
    with time_machine.travel(old_day, tick=False):
        contact = make_contact(tenant, intent="wismo")
        submit_proposal(
            contact,
            ProposalDraft(
                kind=Proposal.Kind.REPLY,
                reply_draft="It arrives tomorrow.",
                confidence=Decimal("0.95"),
                rationale="Tracking shows it out for delivery",
            ),
            guardrails=[],
            actor=Actor.agent(),
        )
    assert BoardDayChange.objects.filter(
        tenant=tenant, day=old_day.astimezone(NEW_YORK).date()
    ).exists()
    [after] = boards.figures([tenant], span, NOW)
    assert after.ai_resolved == before.ai_resolved + 1
    assert_matches(after, reference(tenant, span))
    assert not BoardDayChange.objects.filter(tenant=tenant).exists()


def test_an_executed_action_notes_its_day_once_with_the_resolution(tenant):
    from desk.actions import execute_proposal

    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, intent="refund_request")
    proposal = submit_proposal(
        contact,
        ProposalDraft(
            kind=Proposal.Kind.REFUND,
            amount=Decimal("45.00"),
            reply_draft="Refunded.",
            confidence=Decimal("0.95"),
            rationale="Delivered, within the window",
        ),
        guardrails=[],
        actor=Actor.agent(),
    )
    BoardDayChange.objects.filter(tenant=tenant).delete()

    assert execute_proposal(proposal.pk).status == Proposal.Status.EXECUTED

    assert BoardDayChange.objects.filter(tenant=tenant).count() == 1


def test_a_changed_csat_score_moves_the_day_it_was_given(tenant):
    from desk import csat

    span = boards.period("30d", NOW, NEW_YORK)
    boards.figures([tenant], span, NOW)
    answer = CsatResponse.objects.filter(tenant=tenant, created_at__lt=NOW - timedelta(days=3))
    answer = answer.exclude(score=1).first()
    with time_machine.travel(NOW, tick=False):
        csat.record_response(answer.contact, score=1)
    [f] = boards.figures([tenant], span, NOW)
    assert_matches(f, reference(tenant, span))


def test_beat_task_summarises_closed_days_so_the_board_only_reads(tenant, client):
    with time_machine.travel(NOW, tick=False):
        assert refresh_board_days() == rollups.KEEP_DAYS
        assert refresh_board_days() == 0  # nothing left to do: safe to run twice
    span = boards.period("30d", NOW, NEW_YORK)
    with CaptureQueriesContext(connection) as ctx:
        boards.figures([tenant], span, NOW)
    # stale days (none), summed rollup, partial days raw (resolved contacts; refunds,
    # breaches and CSAT), backlog; ledger totals, contracts
    assert len(ctx.captured_queries) == 7


def test_days_are_local_and_the_autumn_dst_day_has_25_hours():
    start = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
    end = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
    cut = rollups.split(start, end, NEW_YORK)
    assert (cut.first_day, cut.after_last_day) == (date(2026, 10, 31), date(2026, 11, 3))
    assert cut.raw == (
        (start, datetime(2026, 10, 31, 4, 0, tzinfo=UTC)),  # EDT midnight
        (datetime(2026, 11, 3, 5, 0, tzinfo=UTC), end),  # EST midnight
    )
    nov_1 = rollups.midnight(date(2026, 11, 2), NEW_YORK) - rollups.midnight(
        date(2026, 11, 1), NEW_YORK
    )
    assert nov_1 == timedelta(hours=25)


def test_a_range_inside_one_day_is_read_raw():
    start = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    cut = rollups.split(start, start + timedelta(hours=3), NEW_YORK)
    assert cut.first_day is None and cut.raw == ((start, start + timedelta(hours=3)),)


def test_histogram_percentiles_match_percentile_cont_on_bucketed_values():
    rng = random.Random(3)
    values = [float(rng.randint(1, 3000)) for _ in range(501)]
    histogram = rollups.Histogram()
    for v in values:
        histogram.add(rollups.bucket(v), 1)
    for fraction in (0.5, 0.8, 0.9):
        assert histogram.percentile(fraction) == pytest.approx(percentile_cont(values, fraction))
    assert rollups.bucket(59.5) == 60 and rollups.bucket(3 * 3600 + 29) == 3 * 3600
