"""Overrides grouped for leads: which intents and guardrails humans correct most."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from desk import actions, learning
from desk.actions import ProposalDraft, submit_proposal
from desk.models import Proposal
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_tasks(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _escalated(tenant, intent):
    contact = make_contact(tenant, order=make_order(tenant, total="300.00"), intent=intent)
    return submit_proposal(
        contact,
        ProposalDraft(
            kind=Proposal.Kind.REFUND,
            amount=Decimal("300"),
            currency="USD",
            reply_draft="",
            confidence=Decimal("0.9"),
            rationale="",
        ),
        guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "above"}],
        actor=Actor.agent(),
    )


def test_weekly_groups_count_changes_by_intent_and_guardrail(client):
    tenant = make_tenant()
    user = make_member(tenant, Role.LEAD)
    actions.approve_proposal(
        _escalated(tenant, "refund_request"), user, role=Role.LEAD, reason_code="policy_ok"
    )
    actions.approve_proposal(
        _escalated(tenant, "refund_request"),
        user,
        role=Role.LEAD,
        reason_code="goodwill",
        amount=Decimal("50"),
    )
    actions.reject_proposal(
        _escalated(tenant, "wismo"), user, reason_code="policy_denies", reply="No."
    )

    [week] = learning.weekly(tenant)
    assert (week.total_decisions, week.changed) == (3, 2)
    assert dict(week.by_intent) == {"refund_request": 1, "wismo": 1}
    assert dict(week.by_guardrail) == {"within_auto_limit": 2}

    client.force_login(user)
    html = client.get(reverse("desk:overrides", kwargs={"slug": tenant.slug})).content.decode()
    assert "amount: 300.00 → 50.00" in html
