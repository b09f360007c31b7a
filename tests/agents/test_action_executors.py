"""Executing return labels, replacements and cancellations: once, whatever happens twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import UsageRecord
from desk import actions
from desk.models import Contact, Proposal
from integrations import executors
from integrations.models import Order, Refund, Return, StoreCredit
from tests.factories import make_contact, make_order, make_tenant

pytestmark = pytest.mark.django_db

POLICY_LINES = [{"sku": "SKU-1", "condition": "unopened", "reason": "too_small"}]


def approved(kind: str, *, order: Order | None, amount: str | None = None, **parameters):
    """An approved proposal as submit_proposal leaves it when every guardrail passed."""
    tenant = order.tenant if order else make_tenant()
    contact = make_contact(tenant, order=order, body="help")
    contact.status = Contact.Status.EXECUTING
    contact.save(update_fields=["status"])
    return Proposal.objects.create(
        tenant=tenant,
        contact=contact,
        kind=kind,
        status=Proposal.Status.APPROVED,
        amount=Decimal(amount) if amount else None,
        currency="USD" if amount else "",
        parameters=parameters,
        reply_draft="Done.",
        confidence=Decimal("0.9"),
    )


def billed(proposal: Proposal) -> int:
    return UsageRecord.objects.filter(contact_ref=proposal.contact.public_id).count()


def test_kinds_with_an_executor_can_be_approved_and_address_changes_cannot():
    assert Proposal.Kind.RETURN_LABEL in actions.EXECUTABLE_KINDS
    assert Proposal.Kind.REPLACEMENT in actions.EXECUTABLE_KINDS
    assert Proposal.Kind.CANCEL_ORDER in actions.EXECUTABLE_KINDS
    assert Proposal.Kind.STORE_CREDIT in actions.EXECUTABLE_KINDS
    assert Proposal.Kind.ADDRESS_CHANGE not in actions.EXECUTABLE_KINDS


CREDIT_LINES = [{"sku": "SKU-1", "condition": "unopened", "reason": "changed_mind"}]


def test_store_credit_sends_a_label_and_credits_once_when_executed_twice():
    order = make_order(make_tenant(), total="50.00", shipment_status="delivered")
    proposal = approved(
        Proposal.Kind.STORE_CREDIT, order=order, amount="50.00", policy_lines=CREDIT_LINES
    )
    actions.execute_proposal(proposal.pk)
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    credit = StoreCredit.objects.get(order=order)
    assert proposal.status == Proposal.Status.EXECUTED
    assert (credit.amount, credit.customer, credit.status) == (
        Decimal("50.00"),
        order.customer,
        StoreCredit.Status.ISSUED,
    )
    assert credit.idempotency_key == proposal.idempotency_key
    assert Return.objects.get(order=order).lines[0]["reason"] == "changed_mind"
    assert proposal.execution_result["return"]["label_tracking_number"]
    assert not Refund.objects.filter(order=order).exists()
    assert billed(proposal) == 1


def test_store_credit_retried_after_the_store_credited_replays_the_first():
    order = make_order(make_tenant(), total="50.00", shipment_status="delivered")
    proposal = approved(
        Proposal.Kind.STORE_CREDIT, order=order, amount="50.00", policy_lines=CREDIT_LINES
    )
    first = executors.store_credit(
        order, Decimal("50.00"), idempotency_key=proposal.idempotency_key, note=""
    )
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.execution_result["external_id"] == first.external_id
    assert proposal.execution_result["replayed"] is True
    assert StoreCredit.objects.filter(order=order).count() == 1


def test_store_credit_on_an_undelivered_order_credits_nothing():
    order = make_order(make_tenant(), total="50.00", shipment_status=None)
    proposal = approved(
        Proposal.Kind.STORE_CREDIT, order=order, amount="50.00", policy_lines=CREDIT_LINES
    )
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FAILED
    assert not StoreCredit.objects.filter(order=order).exists()
    assert proposal.contact.status == Contact.Status.ESCALATED


def test_a_return_label_runs_once_when_executed_twice():
    order = make_order(make_tenant(), shipment_status="delivered")
    proposal = approved(Proposal.Kind.RETURN_LABEL, order=order, policy_lines=POLICY_LINES)
    actions.execute_proposal(proposal.pk)
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    row = Return.objects.get(order=order)
    assert proposal.status == Proposal.Status.EXECUTED
    assert proposal.execution_result["label_tracking_number"] == row.label_tracking_number
    assert row.idempotency_key == proposal.idempotency_key
    assert row.lines[0]["reason"] == "too_small"
    assert proposal.contact.messages.filter(direction="outbound", body="Done.").count() == 1
    assert billed(proposal) == 1


def test_a_return_retried_after_the_store_answered_replays_the_first():
    order = make_order(make_tenant(), shipment_status="delivered")
    proposal = approved(Proposal.Kind.RETURN_LABEL, order=order, policy_lines=POLICY_LINES)
    # A first attempt reached the store, then the worker died before recording it.
    first = executors.create_return(
        order, [executors.LineRequest(sku="SKU-1")], idempotency_key=proposal.idempotency_key
    )
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.execution_result["external_id"] == first.external_id
    assert proposal.execution_result["replayed"] is True
    assert Return.objects.filter(order=order).count() == 1


def test_the_return_takes_its_quantities_from_the_store_not_the_proposal():
    order = make_order(make_tenant(), shipment_status="delivered")
    order.lines.update(quantity=2)
    lines = [{"sku": "SKU-1", "reason": "too_small", "quantity": 50}, {"sku": "SKU-1"}]
    proposal = approved(Proposal.Kind.RETURN_LABEL, order=order, policy_lines=lines)
    actions.execute_proposal(proposal.pk)
    assert Return.objects.get(order=order).lines[0]["quantity"] == 2


def test_a_return_without_policy_lines_goes_back_to_a_human():
    order = make_order(make_tenant(), shipment_status="delivered")
    proposal = approved(Proposal.Kind.RETURN_LABEL, order=order)
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FAILED
    assert "at least one line" in proposal.execution_result["error"]
    assert proposal.contact.status == Contact.Status.ESCALATED
    assert billed(proposal) == 0


def test_a_replacement_runs_once_when_executed_twice():
    order = make_order(make_tenant(), shipment_status="delivered")
    proposal = approved(Proposal.Kind.REPLACEMENT, order=order, policy_lines=POLICY_LINES)
    actions.execute_proposal(proposal.pk)
    actions.execute_proposal(proposal.pk)
    replacements = Order.objects.filter(raw__replacement_of=str(order.public_id))
    assert replacements.count() == 1
    proposal.refresh_from_db()
    assert proposal.execution_result["order"] == replacements.get().number
    assert billed(proposal) == 1


def test_a_replacement_retried_after_the_store_answered_replays_the_first():
    order = make_order(make_tenant(), shipment_status="delivered")
    proposal = approved(Proposal.Kind.REPLACEMENT, order=order, policy_lines=POLICY_LINES)
    executors.create_replacement(
        order, [executors.LineRequest(sku="SKU-1")], idempotency_key=proposal.idempotency_key
    )
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.execution_result["replayed"] is True
    assert Order.objects.filter(raw__replacement_of=str(order.public_id)).count() == 1


def test_a_cancellation_cancels_and_refunds_once_when_executed_twice():
    order = make_order(make_tenant(), total="60.00", shipment_status=None)
    proposal = approved(Proposal.Kind.CANCEL_ORDER, order=order, amount="60.00")
    actions.execute_proposal(proposal.pk)
    actions.execute_proposal(proposal.pk)
    order.refresh_from_db()
    proposal.refresh_from_db()
    assert order.cancelled_at is not None
    assert [r.amount for r in Refund.objects.filter(order=order)] == [Decimal("60.00")]
    assert proposal.execution_result["refund"]["amount"] == "60.00"
    assert billed(proposal) == 1


def test_a_cancellation_retried_after_a_store_timeout_refunds_once(monkeypatch):
    order = make_order(make_tenant(), total="60.00", shipment_status=None)
    proposal = approved(Proposal.Kind.CANCEL_ORDER, order=order, amount="60.00")
    real_refund = executors.refund
    calls = []

    def flaky(*args, **kwargs):
        calls.append(kwargs["idempotency_key"])
        if len(calls) == 1:
            # The store took the refund but the answer never came back.
            real_refund(*args, **kwargs)
            raise executors.ExecutionError("timed out", permanent=False)
        return real_refund(*args, **kwargs)

    monkeypatch.setattr(executors, "refund", flaky)
    with pytest.raises(executors.ExecutionError):
        actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED  # the task retries
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.EXECUTED
    assert calls == [f"{proposal.idempotency_key}:refund"] * 2
    assert Refund.objects.filter(order=order).count() == 1
    assert proposal.execution_result["refund"]["replayed"] is True


def test_a_cancellation_never_refunds_more_than_is_left():
    order = make_order(make_tenant(), total="60.00", shipment_status=None)
    Refund.objects.create(
        tenant=order.tenant,
        order=order,
        amount=Decimal("20.00"),
        currency="USD",
        idempotency_key="x",
    )
    # A specialist's approval carries no amount: what is left goes back.
    proposal = approved(Proposal.Kind.CANCEL_ORDER, order=order)
    actions.execute_proposal(proposal.pk)
    assert Refund.objects.get(order=order, idempotency_key__endswith=":refund").amount == Decimal(
        "40.00"
    )


def test_a_cancellation_refused_by_the_store_refunds_nothing():
    order = make_order(make_tenant(), total="60.00", shipment_status="in_transit")
    proposal = approved(Proposal.Kind.CANCEL_ORDER, order=order, amount="60.00")
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FAILED
    assert "can no longer be cancelled" in proposal.execution_result["error"]
    assert not Refund.objects.filter(order=order).exists()


def test_an_address_change_needs_an_address_the_guardrails_checked():
    order = make_order(make_tenant(), shipment_status=None)
    address = {"name": "Ada", "address1": "1 Main St", "city": "Springfield", "country_code": "US"}
    unchecked = approved(Proposal.Kind.ADDRESS_CHANGE, order=order, address=address)
    actions.execute_proposal(unchecked.pk)
    unchecked.refresh_from_db()
    assert unchecked.status == Proposal.Status.FAILED
    assert "No checked new address" in unchecked.execution_result["error"]

    checked = approved(Proposal.Kind.ADDRESS_CHANGE, order=order, address=address)
    checked.guardrails = [{"name": "address_checked", "passed": True, "detail": ""}]
    checked.save(update_fields=["guardrails"])
    actions.execute_proposal(checked.pk)
    order.refresh_from_db()
    assert order.shipping_address == address


def test_a_proposal_without_an_order_fails_naming_the_action():
    proposal = approved(Proposal.Kind.REPLACEMENT, order=None, policy_lines=POLICY_LINES)
    actions.execute_proposal(proposal.pk)
    proposal.refresh_from_db()
    assert proposal.execution_result["error"] == "The contact has no order to replace"
