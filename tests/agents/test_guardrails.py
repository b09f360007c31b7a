"""Guardrails that hold whatever the planner proposes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.guardrails import check
from desk.actions import ProposalDraft
from desk.models import Proposal
from tests.agents.helpers import failed
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _draft(kind="reply", reply="Hi, your order is on its way.", **fields) -> ProposalDraft:
    return ProposalDraft(
        kind=kind, reply_draft=reply, confidence=Decimal("0.95"), rationale="", **fields
    )


def test_someone_elses_order_number_is_not_acted_on():
    tenant = make_tenant()
    order = make_order(tenant)
    contact = make_contact(tenant, customer_email="mallory@example.com", body=f"#{order.number}")
    verdicts = check(tenant, _draft(), order=order, customer=None, contact=contact)
    assert failed(verdicts) == ["order_belongs_to_customer"]


def test_a_reply_may_not_promise_money_or_quote_made_up_amounts():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    promise = _draft(reply="Your manager-approved refund of $5,000 is on its way.")
    verdicts = check(tenant, promise, order=order, customer=None)
    assert failed(verdicts) == ["reply_grounded"]
    detail = next(v["detail"] for v in verdicts if v["name"] == "reply_grounded")
    assert "5000.00" in detail and "money" in detail


def test_a_reply_may_not_carry_links_or_other_orders():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    verdicts = check(
        tenant,
        _draft(reply=f"See http://evil.example for order #{order.number} and #99999."),
        order=order,
        customer=None,
    )
    detail = next(v["detail"] for v in verdicts if v["name"] == "reply_grounded")
    assert "link" in detail and "99999" in detail


def test_order_figures_in_a_reply_are_fine():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    verdicts = check(
        tenant,
        _draft(reply=f"Order #{order.number} (80.00 USD) is on its way."),
        order=order,
        customer=None,
    )
    assert failed(verdicts) == []


def test_a_kind_without_an_executor_never_runs_alone_even_if_allowed():
    tenant = make_tenant(auto_action_kinds=["reply", "refund", "address_change"])
    order = make_order(tenant)
    verdicts = check(tenant, _draft(kind=Proposal.Kind.ADDRESS_CHANGE), order=order, customer=None)
    assert "kind_allowed" in failed(verdicts)


def test_refund_with_an_unknown_amount_source_fails():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    draft = _draft(
        kind="refund",
        reply="",
        amount=Decimal("80.00"),
        currency="USD",
        parameters={"amount_source": "customer_message"},
    )
    assert failed(check(tenant, draft, order=order, customer=None)) == ["amount_from_system"]


def test_refund_in_another_currency_fails():
    tenant = make_tenant()
    order = make_order(tenant, total="80.00")
    draft = _draft(
        kind="refund",
        reply="",
        amount=Decimal("80.00"),
        currency="EUR",
        parameters={"amount_source": "order.refundable_remainder"},
    )
    assert failed(check(tenant, draft, order=order, customer=None)) == ["amount_from_system"]


def test_a_none_proposal_always_waits():
    tenant = make_tenant()
    assert failed(check(tenant, _draft(kind="none"), order=None, customer=None)) == [
        "action_needed"
    ]
