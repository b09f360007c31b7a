"""The agent task on real data: understanding, planning and guardrails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.postgres.search import SearchQuery
from django.utils import timezone

from agents.guardrails import check
from agents.models import AgentRun, ToolCall
from agents.tasks import handle_contact
from desk.actions import ProposalDraft, execute_proposal
from desk.models import Contact, Proposal
from integrations.models import Refund
from tests.agents.helpers import agent_paid_out
from tests.factories import make_contact, make_customer, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _run(contact, capture):
    """Run the agent task body, then the execution it queues (as a worker would)."""
    with capture(execute=False):
        handle_contact.run(contact_id=contact.pk)
        for proposal in Proposal.objects.filter(contact=contact, status=Proposal.Status.APPROVED):
            execute_proposal(proposal.pk)
    contact.refresh_from_db()
    return contact


def test_wismo_without_order_number_finds_the_order_by_email(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="out_for_delivery")
    contact = make_contact(tenant, customer_email=order.email, body="wheres my package??")
    contact.customer_email = order.email
    contact.save()
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.order == order
    assert contact.status == Contact.Status.RESOLVED
    # The number of the order it found now finds the contact in the desk's search.
    found = Contact.objects.filter(search_vector=SearchQuery(order.number, config="simple"))
    assert list(found) == [contact]
    [reply] = [
        m
        for m in contact.messages.filter(direction="outbound")
        if m.raw.get("kind") != "csat_survey"
    ]
    assert "out for delivery" in reply.body


def test_small_refund_on_a_delivered_order_is_executed_by_the_agent(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund please")
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.RESOLVED
    assert contact.resolution == Contact.Resolution.AI
    assert Refund.objects.get(order=order).amount == Decimal("45.00")


def test_vip_refund_goes_to_a_human(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(
        tenant,
        total="45.00",
        customer=make_customer(tenant, is_vip=True),
        shipment_status="delivered",
    )
    contact = make_contact(tenant, order=order, body="refund my order")
    contact.customer = order.customer
    contact.save()
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert "VIP" in contact.escalation_reason
    assert not Refund.objects.exists()


def test_shipment_exception_is_escalated_not_answered(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="exception")
    contact = make_contact(tenant, order=order, body="where is my order")
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert contact.current_proposal.kind == Proposal.Kind.NONE


def test_unknown_order_is_escalated_asking_for_the_number(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    contact = make_contact(tenant, customer_email="stranger@example.com", body="where is my order")
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert "order number" in contact.current_proposal.reply_draft


def test_running_the_task_twice_makes_one_proposal(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="refund")
    _run(contact, django_capture_on_commit_callbacks)
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.proposals.count() == 1
    assert AgentRun.objects.filter(contact=contact).count() == 1


def test_a_rule_run_is_recorded_with_every_tool_call_it_made(django_capture_on_commit_callbacks):
    # The run and its calls go in together as the run ends: each call keeps its
    # arguments, its result, its cost and its order.
    tenant = make_tenant()
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund")
    _run(contact, django_capture_on_commit_callbacks)

    run = AgentRun.objects.get(contact=contact)
    assert run.outcome == AgentRun.Outcome.ESCALATED
    assert run.finished_at is not None and run.planner == "embedded"
    calls = list(run.tool_calls.all())
    assert [c.name for c in calls] == [step["tool"] for step in run.steps if "ms" in step]
    by_name = {c.name: c for c in calls}
    assert by_name["get_order"].arguments == {"order": order.number}
    assert by_name["get_order"].result["number"] == order.number
    assert all(c.latency_ms >= 0 and c.error == "" for c in calls)
    assert [c.created_at for c in calls] == sorted(c.created_at for c in calls)


def test_a_tool_that_failed_or_returned_nothing_is_recorded_as_such():
    from agents.tools import Trace

    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant), body="where is it")
    run = AgentRun(tenant=tenant, contact=contact, planner="embedded")
    trace = Trace(run)
    trace.call("get_customer_history", lambda: None, {"email": contact.customer_email})
    with pytest.raises(KeyError):
        trace.call("get_order", lambda: {}["missing"], {"order": "404"})
    run.outcome, run.finished_at = AgentRun.Outcome.FAILED, timezone.now()

    trace.save_with_run()

    assert run.pk is not None and trace.calls == []
    nothing, failed = AgentRun.objects.get(pk=run.pk).tool_calls.all()
    assert nothing.result is None and nothing.error == ""
    assert nothing.arguments == {"email": contact.customer_email}
    assert failed.result is None and "KeyError" in failed.error
    # As the ORM stores a missing result: SQL NULL, not a JSON null.
    assert set(ToolCall.objects.filter(result__isnull=True).values_list("pk", flat=True)) == {
        nothing.pk,
        failed.pk,
    }


def test_agent_error_escalates_with_the_reason(django_capture_on_commit_callbacks, monkeypatch):
    from agents import planner

    def broken(**kwargs):
        raise RuntimeError("planner exploded")

    monkeypatch.setattr(planner, "plan", broken)
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant), body="where is my order")
    _run(contact, django_capture_on_commit_callbacks)
    assert contact.status == Contact.Status.ESCALATED
    assert "planner exploded" in contact.escalation_reason
    assert AgentRun.objects.get(contact=contact).outcome == AgentRun.Outcome.FAILED
    # What the agent understood before it failed is on the contact for the specialist.
    assert contact.intent == "wismo" and contact.language == "en"


def _refund_draft(amount: str, source: str = "order.refundable_remainder") -> ProposalDraft:
    return ProposalDraft(
        kind=Proposal.Kind.REFUND,
        amount=Decimal(amount),
        currency="USD",
        reply_draft="",
        confidence=Decimal("0.95"),
        rationale="",
        parameters={"amount_source": source},
    )


def _failed(verdicts):
    return [v["name"] for v in verdicts if not v["passed"]]


def test_guardrails_pass_a_refund_of_the_remainder_under_the_limit():
    tenant = make_tenant()
    order = make_order(tenant, total="120.00")
    assert _failed(check(tenant, _refund_draft("120.00"), order=order, customer=None)) == []


def test_guardrails_stop_an_amount_not_taken_from_the_order():
    tenant = make_tenant()
    order = make_order(tenant, total="120.00")
    verdicts = check(
        tenant, _refund_draft("50.00", source="customer_text"), order=order, customer=None
    )
    assert _failed(verdicts) == ["amount_from_system"]


def test_guardrails_stop_more_than_the_refundable_remainder():
    tenant = make_tenant()
    order = make_order(tenant, total="120.00")
    Refund.objects.create(
        tenant=tenant, order=order, amount=Decimal("100"), currency="USD", idempotency_key="k1"
    )
    verdicts = check(tenant, _refund_draft("120.00"), order=order, customer=None)
    assert set(_failed(verdicts)) == {"amount_from_system", "within_remainder"}


def test_guardrails_stop_low_confidence():
    tenant = make_tenant()
    draft = _refund_draft("10.00")
    draft.confidence = Decimal("0.5")
    assert "confidence" in _failed(
        check(tenant, draft, order=make_order(tenant, total="10.00"), customer=None)
    )


def test_guardrails_enforce_the_daily_auto_refund_cap():
    tenant = make_tenant(daily_auto_refund_cap=Decimal("150"))
    agent_paid_out(tenant, Proposal.Kind.REFUND, "100")
    verdicts = check(
        tenant, _refund_draft("60.00"), order=make_order(tenant, total="60.00"), customer=None
    )
    assert _failed(verdicts) == ["daily_cap"]


def test_guardrails_refuse_kinds_the_tenant_did_not_allow():
    tenant = make_tenant(auto_action_kinds=["reply"])
    verdicts = check(
        tenant, _refund_draft("10.00"), order=make_order(tenant, total="10.00"), customer=None
    )
    assert _failed(verdicts) == ["kind_allowed"]
