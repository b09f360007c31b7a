"""Monthly statements: line items, deflection against the floor, credit, freezing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing import statements
from billing.actions import (
    convert_on_reopen,
    freeze_due_statements,
    freeze_statement,
    record_usage,
)
from billing.models import Statement, UsageRecord
from billing.tasks import freeze_statements
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
MID_MARCH = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _resolve(tenant, count, *, by_ai, at=MID_MARCH):
    refs = [uuid.uuid4() for _ in range(count)]
    for ref in refs:
        record_usage(tenant, ref, by_ai=by_ai, occurred_at=at)
    return refs


def test_statement_lists_line_items_and_meets_the_floor():
    tenant = make_tenant()
    _resolve(tenant, 8, by_ai=True)
    _resolve(tenant, 2, by_ai=False)

    data = statements.build_statement(tenant, MARCH)

    assert [(line.kind, line.quantity, line.amount) for line in data.lines] == [
        ("ai_resolution", 8, Decimal("11.20")),
        ("human_resolution", 2, Decimal("10.40")),
    ]
    assert (data.ai_count, data.human_count) == (8, 2)
    assert data.deflection_rate == Decimal("0.800")
    assert not data.is_below_floor
    assert data.floor_credit == 0
    assert data.total == Decimal("21.60")
    assert data.cost_per_contact == Decimal("2.16")


def test_below_the_floor_the_contract_credit_is_deducted():
    tenant = make_tenant()
    ai = _resolve(tenant, 7, by_ai=True)
    _resolve(tenant, 3, by_ai=False)
    # One AI resolution reopened: 6 of 10 deflected, below the 70% floor.
    convert_on_reopen(tenant, ai[0], reopened_at=MID_MARCH + timedelta(hours=5))

    data = statements.build_statement(tenant, MARCH)

    kinds = {line.kind: line for line in data.lines}
    assert kinds["ai_reversal"].quantity == 1
    assert kinds["ai_reversal"].amount == Decimal("-1.40")
    assert kinds["human_conversion"].amount == Decimal("5.20")
    assert (data.ai_count, data.human_count, data.reversed_count) == (6, 4, 1)
    assert data.subtotal == Decimal("29.20")  # 7×1.40 + 3×5.20 − 1.40 + 5.20
    assert data.is_below_floor
    assert data.floor_credit == Decimal("2.92")  # 10% of 29.20
    assert kinds["floor_credit"].amount == Decimal("-2.92")
    assert data.total == Decimal("26.28")


def test_a_rate_that_rounds_to_the_floor_is_still_below_it():
    tenant = make_tenant()
    # 1399 of 2000 is 69.95%: it prints as 70.0% but misses a 70% floor.
    contract = tenant.contracts.get()
    UsageRecord.objects.bulk_create(
        UsageRecord(
            tenant=tenant,
            contract=contract,
            contact_ref=uuid.uuid4(),
            kind="ai_resolution" if i < 1399 else "human_resolution",
            unit_price=Decimal("1.40") if i < 1399 else Decimal("5.20"),
            currency="USD",
            occurred_at=MID_MARCH,
        )
        for i in range(2000)
    )
    data = statements.build_statement(tenant, MARCH)
    assert data.deflection_rate == Decimal("0.700")
    assert data.is_below_floor


def test_the_month_is_cut_at_the_tenants_local_midnight():
    tenant = make_tenant(time_zone="America/New_York")
    # 03:00 UTC on 1 March is still 28 February in New York.
    _resolve(tenant, 1, by_ai=True, at=datetime(2026, 3, 1, 3, tzinfo=UTC))
    _resolve(tenant, 1, by_ai=False, at=datetime(2026, 3, 1, 6, tzinfo=UTC))
    assert statements.build_statement(tenant, date(2026, 2, 1)).ai_count == 1
    march = statements.build_statement(tenant, MARCH)
    assert (march.ai_count, march.human_count) == (0, 1)


def test_lines_split_when_the_price_changes_mid_month():
    tenant = make_tenant()
    from billing.actions import add_contract_version

    add_contract_version(
        tenant,
        ai_resolution_price=Decimal("0.90"),
        human_resolution_price=Decimal("4.50"),
        starts_on=date(2026, 3, 20),
    )
    _resolve(tenant, 2, by_ai=True)
    _resolve(tenant, 3, by_ai=True, at=datetime(2026, 3, 25, tzinfo=UTC))
    lines = statements.build_statement(tenant, MARCH).lines
    assert [(line.unit_price, line.quantity) for line in lines] == [
        (Decimal("0.90"), 3),
        (Decimal("1.40"), 2),
    ]


def test_an_empty_month_has_no_deflection_and_no_credit():
    data = statements.build_statement(make_tenant(), MARCH)
    assert data.lines == []
    assert data.deflection_rate is None
    assert data.total == 0


def test_a_month_cannot_be_frozen_inside_its_reopen_window():
    tenant = make_tenant()
    with pytest.raises(ValueError, match="cannot be frozen"):
        freeze_statement(tenant, MARCH, now=datetime(2026, 4, 3, 23, tzinfo=UTC))
    assert freeze_statement(tenant, MARCH, now=datetime(2026, 4, 4, 0, tzinfo=UTC)).pk


def test_a_frozen_statement_keeps_its_figures_and_freezing_is_idempotent():
    tenant = make_tenant()
    ai = _resolve(tenant, 3, by_ai=True)
    _resolve(tenant, 1, by_ai=False)
    frozen = freeze_statement(tenant, MARCH, now=datetime(2026, 4, 5, tzinfo=UTC))
    # Late activity on March's contacts after the freeze.
    _resolve(tenant, 5, by_ai=False)
    convert_on_reopen(tenant, ai[0], reopened_at=MID_MARCH + timedelta(hours=1))

    again = freeze_statement(tenant, MARCH, now=datetime(2026, 4, 6, tzinfo=UTC))
    shown = statements.get_statement(tenant, MARCH)

    assert again.pk == frozen.pk
    assert Statement.objects.filter(tenant=tenant).count() == 1
    assert shown.is_frozen
    assert (shown.ai_count, shown.human_count) == (3, 1)
    assert shown.total == Decimal("9.40")
    assert [line.quantity for line in shown.lines] == [3, 1]
    # The ledger moved on; the preview would differ, the frozen statement does not.
    assert statements.build_statement(tenant, MARCH).human_count == 6


def test_a_frozen_statement_is_never_saved_again():
    frozen = freeze_statement(make_tenant(), MARCH, now=datetime(2026, 5, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="never edited"):
        frozen.save()


def test_the_beat_freezes_last_month_once_its_window_has_passed():
    with time_machine.travel(datetime(2026, 2, 20, tzinfo=UTC), tick=False):
        tenant = make_tenant()
    _resolve(tenant, 2, by_ai=True)

    # 3 April: March's reopen window is still open, so the latest closable month is February.
    assert freeze_due_statements(now=datetime(2026, 4, 3, 12, tzinfo=UTC)) == [
        Statement.objects.get(tenant=tenant, month=date(2026, 2, 1))
    ]
    frozen = freeze_due_statements(now=datetime(2026, 4, 4, 1, tzinfo=UTC))
    assert [(s.tenant_id, s.month, s.ai_count) for s in frozen] == [(tenant.pk, MARCH, 2)]
    assert freeze_due_statements(now=datetime(2026, 4, 4, 2, tzinfo=UTC)) == []


def test_the_freeze_task_skips_months_before_the_tenant_existed():
    with time_machine.travel(datetime(2026, 3, 5, tzinfo=UTC), tick=False):
        make_tenant()
        assert freeze_statements() == 0
    with time_machine.travel(datetime(2026, 4, 10, tzinfo=UTC), tick=False):
        assert freeze_statements() == 1
        assert freeze_statements() == 0


def test_statement_csv_has_line_items_and_totals():
    tenant = make_tenant()
    _resolve(tenant, 2, by_ai=True)
    text = statements.statement_csv(statements.build_statement(tenant, MARCH))
    assert "ai_resolution,AI-resolved contacts,2,1.40,2.80" in text
    assert "total,2.80" in text
    assert "status,preview" in text


def test_ledger_csv_has_every_row_with_its_evidence():
    tenant = make_tenant(time_zone="Europe/Berlin")
    ai = _resolve(tenant, 2, by_ai=True)
    convert_on_reopen(tenant, ai[0], reopened_at=MID_MARCH + timedelta(hours=2))
    rows = list(statements.ledger_csv_rows(tenant, MARCH))
    assert rows[0].startswith("occurred_at,record,kind,contact")
    assert len(rows) == 1 + 4
    assert sum(str(ai[0]) in row for row in rows) == 3
    assert any("reopened_within_window" in row for row in rows)
    assert all("2026-03-15T13:00:00+01:00" in row for row in rows[1:])
