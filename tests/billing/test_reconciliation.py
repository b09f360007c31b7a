"""A simulated month of messy events: the ledger equals the resolutions exactly.

Contacts resolve by AI or by a human; resolution events are retried and
redelivered; customers come back within and after the 72-hour window, and the
reopen events are redelivered too. Whatever the noise, every resolved contact
is billed exactly once, at the kind it ended up as, and nothing else is billed."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing import statements
from billing.actions import convert_on_reopen, freeze_statement, record_usage
from billing.models import UsageRecord
from billing.queries import month_summary
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/New_York")
MARCH = date(2026, 3, 1)
PRICE = {"ai": Decimal("1.40"), "human": Decimal("5.20")}
SIGN = {
    "ai_resolution": ("ai", 1),
    "ai_reversal": ("ai", -1),
    "human_resolution": ("human", 1),
    "human_conversion": ("human", 1),
}


def _simulate(tenant, rng: random.Random, contacts: int) -> dict[uuid.UUID, tuple[str, datetime]]:
    """Drive the billing actions as the desk would; return the truth per contact:
    the kind it must be billed as and when it resolved."""
    truth: dict[uuid.UUID, tuple[str, datetime]] = {}
    month_start = datetime(2026, 3, 1, tzinfo=ZONE)
    for _ in range(contacts):
        ref = uuid.uuid4()
        # A few resolutions straddle the month's edges in the tenant's zone.
        resolved_at = month_start + timedelta(seconds=rng.uniform(-2 * 86400, 33 * 86400))
        by_ai = rng.random() < 0.72
        decision = None if by_ai else uuid.uuid4()
        first = record_usage(
            tenant, ref, by_ai=by_ai, occurred_at=resolved_at, decision_ref=decision
        )
        assert first is not None
        truth[ref] = ("ai" if by_ai else "human", resolved_at)
        # Retried tasks and redelivered webhooks resolve the same contact again.
        for _ in range(rng.choice([0, 0, 1, 3])):
            retry_at = resolved_at + timedelta(seconds=rng.uniform(0, 600))
            assert record_usage(tenant, ref, by_ai=by_ai, occurred_at=retry_at) is None
        roll = rng.random()
        if roll < 0.18:
            reopened_at = resolved_at + timedelta(hours=rng.uniform(0, 71.99))
            if by_ai:
                truth[ref] = ("human", resolved_at)
            for _ in range(rng.choice([1, 2, 3])):  # the reopen event redelivered
                convert_on_reopen(tenant, ref, reopened_at=reopened_at)
            # The reopened contact resolves again: the desk's retry of the same resolution.
            assert record_usage(tenant, ref, by_ai=False, occurred_at=reopened_at) is None
        elif roll < 0.30:
            reopened_at = resolved_at + timedelta(hours=rng.uniform(72, 400))
            for _ in range(rng.choice([1, 2])):
                assert convert_on_reopen(tenant, ref, reopened_at=reopened_at) == []
    return truth


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ledger_equals_the_resolutions_after_a_messy_month(seed):
    tenant = make_tenant(time_zone="America/New_York")
    make_tenant()  # a neighbour whose ledger must not leak in
    truth = _simulate(tenant, random.Random(seed), contacts=200)

    # Per contact: the ledger nets to exactly one resolution of the right kind.
    net: dict[uuid.UUID, Counter] = defaultdict(Counter)
    amount: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for ref, kind, price in UsageRecord.objects.filter(tenant=tenant).values_list(
        "contact_ref", "kind", "unit_price"
    ):
        side, sign = SIGN[kind]
        net[ref][side] += sign
        amount[ref] += price
    assert set(net) == set(truth), "billed contacts differ from resolved contacts"
    for ref, (kind, _) in truth.items():
        nonzero = {side: n for side, n in net[ref].items() if n}
        assert nonzero == {kind: 1}, (ref, net[ref])
        assert amount[ref] == PRICE[kind]

    # Per month: the statement equals the resolutions that happened in it.
    in_march = [
        kind for kind, at in truth.values() if at.astimezone(ZONE).date().replace(day=1) == MARCH
    ]
    expected = Counter(in_march)
    data = statements.build_statement(tenant, MARCH)
    assert (data.ai_count, data.human_count) == (expected["ai"], expected["human"])
    assert data.subtotal == expected["ai"] * PRICE["ai"] + expected["human"] * PRICE["human"]
    summary = month_summary(tenant, MARCH, date(2026, 4, 1))
    assert (summary.ai_count, summary.human_count) == (data.ai_count, data.human_count)
    assert summary.total_amount == data.subtotal

    # Freezing after the window changes nothing.
    frozen = statements.from_frozen(
        freeze_statement(tenant, MARCH, now=datetime(2026, 4, 10, tzinfo=UTC))
    )
    assert (frozen.ai_count, frozen.human_count, frozen.total) == (
        data.ai_count,
        data.human_count,
        data.total,
    )
    assert frozen.lines == data.lines
