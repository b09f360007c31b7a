"""The daily cap's running total: what the agent paid out alone, one row per merchant day."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from desk import payouts
from desk.actions import execute_proposal, submit_proposal
from desk.models import AutoPayoutDay, Contact, Decision, Proposal
from tenants.actor import Actor
from tenants.roles import Role
from tests.agents.helpers import agent_paid_out, payout_draft
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_what_the_agent_pays_out_alone_adds_up_to_the_day_s_total():
    tenant = make_tenant()
    agent_paid_out(tenant, Proposal.Kind.REFUND, "40.00")
    agent_paid_out(tenant, Proposal.Kind.STORE_CREDIT, "15.50")
    agent_paid_out(tenant, Proposal.Kind.CANCEL_ORDER, "20.00")
    agent_paid_out(tenant, Proposal.Kind.REPLY, "0")

    assert payouts.paid_out_today(tenant) == Decimal("75.50")
    assert payouts.paid_out_today(make_tenant()) == Decimal("0")


def test_a_payout_escalated_for_any_reason_does_not_count():
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant, total="90.00"))
    above_limit = [{"name": "within_auto_limit", "passed": False, "detail": "above"}]

    submit_proposal(
        contact,
        payout_draft(Proposal.Kind.REFUND, "90.00"),
        guardrails=above_limit,
        actor=Actor.agent(),
    )

    assert payouts.paid_out_today(tenant) == Decimal("0")


def test_a_payout_that_no_longer_fits_is_escalated_with_the_reason():
    # The guardrails passed a moment ago, but another contact's approval took the room.
    tenant = make_tenant(daily_auto_refund_cap=Decimal("100"))
    contact = make_contact(tenant, order=make_order(tenant, total="30.00"))
    checked = [
        {"name": "within_auto_limit", "passed": True, "detail": "30 ≤ 200"},
        {"name": "daily_cap", "passed": True, "detail": "today 0 + 30 vs daily cap 100"},
    ]
    agent_paid_out(tenant, Proposal.Kind.REFUND, "80.00")

    proposal = submit_proposal(
        contact,
        payout_draft(Proposal.Kind.REFUND, "30.00"),
        guardrails=checked,
        actor=Actor.agent(),
    )

    assert proposal.status == Proposal.Status.PROPOSED
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ESCALATED
    assert "approved meanwhile" in contact.escalation_reason
    assert [g["name"] for g in proposal.guardrails if not g["passed"]] == ["daily_cap"]
    assert payouts.paid_out_today(tenant) == Decimal("80.00")


def test_a_payout_whose_execution_fails_gives_its_amount_back(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    agent_paid_out(tenant, Proposal.Kind.REFUND, "25.00")
    orderless = make_contact(tenant)  # nothing to refund at the store: it fails for good
    proposal = agent_paid_out(tenant, Proposal.Kind.REFUND, "40.00", contact=orderless)
    assert payouts.paid_out_today(tenant) == Decimal("65.00")

    with django_capture_on_commit_callbacks(execute=False):
        assert execute_proposal(proposal.pk).status == Proposal.Status.FAILED

    assert payouts.paid_out_today(tenant) == Decimal("25.00")


def test_the_day_is_the_merchant_s():
    tenant = make_tenant(time_zone="Pacific/Auckland")
    late_friday_in_utc = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    assert str(payouts.merchant_day(tenant, late_friday_in_utc)) == "2026-11-28"


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_cannot_both_take_the_last_of_the_cap():
    tenant = make_tenant(daily_auto_refund_cap=Decimal("100"))
    first_holds_its_lock = threading.Event()
    fitted: dict[str, bool] = {}

    def approve(name: str) -> None:
        try:
            with transaction.atomic():
                fitted[name] = payouts.reserve(tenant, Decimal("60"))
                if name == "first":
                    first_holds_its_lock.set()
                    threading.Event().wait(0.3)  # the second arrives before this commits
        finally:
            connection.close()

    first = threading.Thread(target=approve, args=("first",))
    first.start()
    assert first_holds_its_lock.wait(5)
    second = threading.Thread(target=approve, args=("second",))
    second.start()
    first.join()
    second.join()

    assert fitted == {"first": True, "second": False}
    assert payouts.paid_out_today(tenant) == Decimal("60")


def test_the_migration_starts_each_merchant_s_total_from_today_s_automatic_payouts():
    carry_over = import_module("desk.migrations.0016_auto_payout_days").total_today_so_far
    tenant, quiet = make_tenant(), make_tenant()

    def payout(kind, amount, status=Proposal.Status.EXECUTED, **fields):
        return Proposal.objects.create(
            tenant=tenant,
            contact=make_contact(tenant),
            kind=kind,
            status=status,
            amount=Decimal(amount),
            **fields,
        )

    payout(Proposal.Kind.REFUND, "40.00")
    payout(Proposal.Kind.STORE_CREDIT, "10.00", status=Proposal.Status.APPROVED)
    payout(Proposal.Kind.REFUND, "99.00", status=Proposal.Status.FAILED)
    payout(Proposal.Kind.REFUND, "99.00", created_at=timezone.now() - timedelta(days=2))
    decided = payout(Proposal.Kind.REFUND, "99.00")
    Decision.objects.create(
        tenant=tenant,
        proposal=decided,
        decided_by=make_member(tenant, Role.SPECIALIST),
        outcome=Decision.Outcome.APPROVE,
        reason_code=Decision.Reason.POLICY_OK,
    )

    carry_over(apps, None)

    assert payouts.paid_out_today(tenant) == Decimal("50.00")
    assert not AutoPayoutDay.objects.filter(tenant=quiet).exists()
