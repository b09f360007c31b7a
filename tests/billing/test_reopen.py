"""A reopen within 72 hours converts an AI resolution; the ledger only grows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.actions import convert_on_reopen, freeze_statement, record_usage
from billing.models import UsageRecord
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

RESOLVED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _kinds(ref):
    return sorted(UsageRecord.objects.filter(contact_ref=ref).values_list("kind", flat=True))


def test_reopen_within_72_hours_appends_a_reversal_and_a_conversion():
    tenant = make_tenant()
    ref = uuid.uuid4()
    original = record_usage(tenant, ref, by_ai=True, occurred_at=RESOLVED)

    rows = convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=71))

    reversal, conversion = rows
    assert reversal.kind == UsageRecord.Kind.AI_REVERSAL
    assert reversal.unit_price == Decimal("-1.40")
    assert conversion.kind == UsageRecord.Kind.HUMAN_CONVERSION
    assert conversion.unit_price == Decimal("5.20")
    assert {reversal.corrects_id, conversion.corrects_id} == {original.pk}
    # Dated at the resolution, so the correction lands in the resolution's month.
    assert reversal.occurred_at == conversion.occurred_at == RESOLVED
    assert reversal.basis["reason"] == "reopened_within_window"
    assert reversal.basis["hours_to_reopen"] == 71
    original.refresh_from_db()
    assert original.unit_price == Decimal("1.40")  # never edited


def test_converting_twice_writes_the_correction_once():
    tenant = make_tenant()
    ref = uuid.uuid4()
    record_usage(tenant, ref, by_ai=True, occurred_at=RESOLVED)
    assert len(convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=1))) == 2
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=1)) == []
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=5)) == []
    assert _kinds(ref) == ["ai_resolution", "ai_reversal", "human_conversion"]


def test_reopen_at_or_after_72_hours_leaves_the_ai_resolution_standing():
    tenant = make_tenant()
    ref = uuid.uuid4()
    record_usage(tenant, ref, by_ai=True, occurred_at=RESOLVED)
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=72)) == []
    assert _kinds(ref) == ["ai_resolution"]


def test_reopen_of_a_human_resolution_changes_nothing():
    tenant = make_tenant()
    ref = uuid.uuid4()
    record_usage(tenant, ref, by_ai=False, occurred_at=RESOLVED)
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=2)) == []
    assert _kinds(ref) == ["human_resolution"]


def test_reopen_of_an_unbilled_contact_or_another_tenants_contact_changes_nothing():
    tenant, other = make_tenant(), make_tenant()
    ref = uuid.uuid4()
    record_usage(other, ref, by_ai=True, occurred_at=RESOLVED)
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(hours=2)) == []
    assert convert_on_reopen(tenant, uuid.uuid4(), reopened_at=RESOLVED) == []
    assert _kinds(ref) == ["ai_resolution"]


def test_a_reopen_stamped_before_the_resolution_is_ignored():
    tenant = make_tenant()
    ref = uuid.uuid4()
    record_usage(tenant, ref, by_ai=True, occurred_at=RESOLVED)
    assert convert_on_reopen(tenant, ref, reopened_at=RESOLVED - timedelta(minutes=1)) == []


def test_a_later_resolution_number_is_the_one_converted():
    tenant = make_tenant()
    ref = uuid.uuid4()
    record_usage(tenant, ref, by_ai=False, occurred_at=RESOLVED)
    second = record_usage(
        tenant, ref, by_ai=True, occurred_at=RESOLVED + timedelta(days=1), resolution_number=2
    )
    rows = convert_on_reopen(tenant, ref, reopened_at=RESOLVED + timedelta(days=2))
    assert [r.corrects_id for r in rows] == [second.pk, second.pk]


def test_a_correction_after_the_month_is_frozen_is_carried_into_the_open_month():
    tenant = make_tenant()
    ref = uuid.uuid4()
    resolved = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    record_usage(tenant, ref, by_ai=True, occurred_at=resolved)
    # Frozen early by hand (the beat waits for the window): the statement must not move.
    freeze_statement(tenant, resolved.date(), now=datetime(2026, 4, 5, tzinfo=UTC))

    reversal, _ = convert_on_reopen(tenant, ref, reopened_at=resolved + timedelta(hours=3))

    assert reversal.occurred_at > resolved
    assert reversal.basis["carried_forward_from"] == "2026-03"


def test_record_usage_keeps_the_evidence_of_why_it_counts():
    tenant = make_tenant()
    ai = record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=RESOLVED)
    decision = uuid.uuid4()
    human = record_usage(
        tenant, uuid.uuid4(), by_ai=False, occurred_at=RESOLVED, decision_ref=decision
    )
    assert ai.basis["resolved_by"] == "ai"
    assert ai.basis["human_decision"] is None
    assert ai.basis["reopen_window_hours"] == 72
    assert human.basis["human_decision"] == str(decision)
    assert human.basis["contract_from"] == "2026-01-01"


def test_an_ai_resolution_with_a_human_decision_is_refused():
    tenant = make_tenant()
    with pytest.raises(ValueError, match="no human decision"):
        record_usage(
            tenant, uuid.uuid4(), by_ai=True, occurred_at=RESOLVED, decision_ref=uuid.uuid4()
        )
