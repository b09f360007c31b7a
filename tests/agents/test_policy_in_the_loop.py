"""Returns, replacements and damaged items go through the merchant's returns policy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from desk.models import Contact, Proposal
from integrations.models import Order, OrderLine, Refund, StoreCredit
from tests.agents.helpers import failed, publish_policy, run_agent
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_return_within_the_window_proposes_a_label_with_the_policy_refund(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="80.00", shipment_status="delivered")
    contact = make_contact(
        tenant, order=order, body="I'd like to return this, it's too small. Still unopened."
    )
    run_agent(contact, django_capture_on_commit_callbacks)
    proposal = contact.current_proposal
    assert proposal.kind == Proposal.Kind.RETURN_LABEL
    assert proposal.amount == Decimal("75.00")  # 80.00 less the 5.00 return shipping
    decision = proposal.evidence["returns"][0]
    assert decision["rule_id"] == "standard-30"
    assert decision["policy_version"] == 1
    assert [step["rule_id"] for step in decision["path"]][-1] == "standard-30"
    assert proposal.parameters["policy_lines"][0]["reason"] == "wrong_size"
    # The policy allows it and nothing is risky: the agent sends the label itself.
    assert failed(proposal.guardrails) == []
    assert contact.status == Contact.Status.RESOLVED
    assert contact.resolution == Contact.Resolution.AI
    assert order.returns.get().idempotency_key == proposal.idempotency_key


def test_cheap_item_damaged_in_transit_is_refunded_without_a_return(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    publish_policy(tenant)
    regular = make_order(tenant, shipment_status="delivered").customer  # not a first order
    order = make_order(tenant, total="24.00", customer=regular, shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="The mug arrived smashed in the box.")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.RESOLVED
    assert contact.current_proposal.kind == Proposal.Kind.REFUND
    assert contact.current_proposal.parameters["amount_source"] == "policy"
    assert Refund.objects.get(order=order).amount == Decimal("24.00")


def test_wrong_item_is_replaced_by_the_agent(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="60.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="You sent me the wrong item, I ordered blue.")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.current_proposal.kind == Proposal.Kind.REPLACEMENT
    assert contact.status == Contact.Status.RESOLVED
    replacement = Order.objects.get(raw__replacement_of=str(order.public_id))
    assert replacement.total == Decimal("0")


def test_wrong_item_on_an_order_already_replaced_waits_for_a_human(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="60.00", shipment_status="delivered")
    for body in ("You sent me the wrong item, I ordered blue.", "Wrong item again!"):
        contact = make_contact(tenant, order=order, body=body)
        run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert "not_done_before" in failed(contact.current_proposal.guardrails)


def test_unclear_condition_takes_the_review_path(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="60.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want to return my order please")
    run_agent(contact, django_capture_on_commit_callbacks)
    proposal = contact.current_proposal
    assert proposal.kind == Proposal.Kind.NONE
    assert proposal.evidence["returns"][0]["outcome"] == "review"
    assert contact.status == Contact.Status.ESCALATED


def test_policy_rejection_escalates(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="60.00", shipment_status="delivered")
    OrderLine.objects.filter(order=order).update(is_final_sale=True)
    contact = make_contact(tenant, order=order, body="Return please, never worn, changed my mind.")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.current_proposal.kind == Proposal.Kind.NONE
    assert contact.current_proposal.evidence["returns"][0]["rule_id"] == "final-sale"


def test_a_planner_claiming_a_friendlier_reason_fails_policy_allows(
    django_capture_on_commit_callbacks, monkeypatch
):
    from agents import planner

    honest = planner.plan

    def fooled(**kwargs):
        draft = honest(**kwargs)
        draft.kind = Proposal.Kind.REFUND
        draft.parameters["policy_lines"][0]["reason"] = "damaged_in_transit"
        draft.amount = Decimal("24.00")
        return draft

    monkeypatch.setattr(planner, "plan", fooled)
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="24.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="Return please, unopened, too big.")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert "policy_allows" in failed(contact.current_proposal.guardrails)
    assert not Refund.objects.exists()


def test_without_a_published_policy_returns_go_to_review(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, total="60.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="Return please, unopened, too big.")
    run_agent(contact, django_capture_on_commit_callbacks)
    assert contact.current_proposal.kind == Proposal.Kind.NONE
    assert contact.current_proposal.evidence["returns"][0]["outcome"] == "review"


def test_late_unopened_return_is_paid_in_store_credit_by_the_agent(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    publish_policy(tenant)
    order = make_order(tenant, total="50.00", shipment_status="delivered")
    Order.objects.filter(pk=order.pk).update(placed_at=order.placed_at - timedelta(days=41))
    contact = make_contact(
        tenant, order=order, body="Can I still return this? Changed my mind, it's unopened."
    )
    run_agent(contact, django_capture_on_commit_callbacks)
    proposal = contact.current_proposal
    assert proposal.kind == Proposal.Kind.STORE_CREDIT
    assert proposal.evidence["returns"][0]["rule_id"] == "credit-90"
    assert failed(proposal.guardrails) == []
    assert contact.resolution == Contact.Resolution.AI
    assert StoreCredit.objects.get(order=order).amount == Decimal("50.00")
    assert order.returns.count() == 1
    assert "50.00 USD in store credit" in proposal.reply_draft
