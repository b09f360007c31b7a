"""Claims, edits, overrides, notes and replies: how a specialist works a case."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing.models import UsageRecord
from desk import actions
from desk.actions import ProposalDraft, submit_proposal
from desk.models import Contact, Message, Proposal
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


def escalate(
    tenant, *, total="300.00", kind=Proposal.Kind.REFUND, amount="300.00", **contact_fields
):
    order = make_order(tenant, total=total, shipment_status="delivered")
    contact = make_contact(
        tenant, order=order, body=contact_fields.pop("body", "refund please"), **contact_fields
    )
    proposal = submit_proposal(
        contact,
        ProposalDraft(
            kind=kind,
            amount=Decimal(amount) if amount else None,
            currency="USD",
            reply_draft="Done.",
            confidence=Decimal("0.9"),
            rationale="",
        ),
        guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "above limit"}],
        actor=Actor.agent(),
    )
    contact.refresh_from_db()
    return contact, proposal


@pytest.fixture(autouse=True)
def _no_tasks(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def test_escalation_gets_a_decision_deadline_from_the_tenant():
    tenant = make_tenant(decision_sla_hours=2)
    contact, _ = escalate(tenant)
    assert (
        timedelta(hours=1, minutes=59) < contact.sla_due_at - timezone.now() <= timedelta(hours=2)
    )


def test_editing_the_amount_records_the_change_and_approves_the_new_amount():
    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST)
    _, proposal = escalate(tenant)
    decision = actions.approve_proposal(
        proposal, user, role=Role.SPECIALIST, reason_code="goodwill", amount=Decimal("120.00")
    )
    proposal.refresh_from_db()
    assert decision.outcome == "edit"
    assert decision.changes == {"amount": ["300.00", "120.00"]}
    assert proposal.amount == Decimal("120.00")
    assert proposal.status == Proposal.Status.APPROVED


def test_an_edited_amount_above_the_refundable_remainder_is_refused():
    tenant = make_tenant()
    _, proposal = escalate(tenant)
    with pytest.raises(actions.DecisionError, match="refundable remainder"):
        actions.approve_proposal(
            proposal,
            make_member(tenant, Role.LEAD),
            role=Role.LEAD,
            reason_code="goodwill",
            amount=Decimal("301"),
        )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED


def test_overriding_a_refund_with_a_reply_only_records_an_override():
    tenant = make_tenant()
    _, proposal = escalate(tenant)
    decision = actions.approve_proposal(
        proposal,
        make_member(tenant, Role.SPECIALIST),
        role=Role.SPECIALIST,
        reason_code="wrong_action",
        kind="reply",
    )
    proposal.refresh_from_db()
    assert decision.outcome == "override"
    assert decision.changes["kind"] == ["refund", "reply"]
    assert proposal.kind == "reply" and proposal.amount is None


def test_a_live_claim_keeps_others_from_deciding(client):
    tenant = make_tenant()
    alice, bob = make_member(tenant, Role.SPECIALIST), make_member(tenant, Role.SPECIALIST)
    contact, proposal = escalate(tenant)
    actions.claim_contact(contact, alice)

    client.force_login(bob)
    url = reverse(
        "desk:approve", kwargs={"contact_id": contact.public_id, "proposal_id": proposal.public_id}
    )
    response = client.post(url, {"reason_code": "policy_ok"})
    assert response.status_code == 409
    assert "is working on this contact" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PROPOSED


def test_an_expired_claim_is_free_to_take():
    tenant = make_tenant()
    alice, bob = make_member(tenant, Role.SPECIALIST), make_member(tenant, Role.SPECIALIST)
    contact, _ = escalate(tenant)
    actions.claim_contact(contact, alice)
    Contact.objects.filter(pk=contact.pk).update(
        claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert actions.claim_contact(contact, bob).assigned_to == bob


def test_next_claims_the_one_due_soonest_and_skips_claimed_ones():
    tenant = make_tenant()
    alice, bob = make_member(tenant, Role.SPECIALIST), make_member(tenant, Role.SPECIALIST)
    later, _ = escalate(tenant)
    sooner, _ = escalate(tenant)
    Contact.objects.filter(pk=sooner.pk).update(sla_due_at=timezone.now() + timedelta(minutes=5))
    assert actions.claim_next(alice, [tenant]).pk == sooner.pk
    assert actions.claim_next(bob, [tenant]).pk == later.pk
    assert actions.claim_next(make_member(tenant, Role.SPECIALIST), [tenant]) is None


@pytest.mark.django_db(transaction=True)
def test_two_specialists_pressing_next_together_get_different_contacts():
    tenant = make_tenant()
    people = [make_member(tenant, Role.SPECIALIST) for _ in range(2)]
    for _ in range(2):
        escalate(tenant)
    barrier = threading.Barrier(2)
    got = []

    def press_next(user):
        barrier.wait()
        try:
            contact = actions.claim_next(user, [tenant])
            got.append(contact.pk if contact else None)
        finally:
            connection.close()

    threads = [threading.Thread(target=press_next, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in got
    assert len(set(got)) == 2


def test_next_view_redirects_to_the_claimed_contact(client):
    tenant = make_tenant()
    contact, _ = escalate(tenant)
    client.force_login(make_member(tenant, Role.SPECIALIST))
    response = client.post(reverse("desk:next"))
    assert response["Location"] == reverse("desk:contact", kwargs={"contact_id": contact.public_id})


def test_merchant_admin_cannot_press_next(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.MERCHANT_ADMIN))
    assert client.post(reverse("desk:next")).status_code == 403


def test_lead_reassigns_and_a_specialist_cannot(client):
    tenant = make_tenant()
    alice, bob = (
        make_member(tenant, Role.SPECIALIST, "alice@example.com"),
        make_member(tenant, Role.SPECIALIST, "bob@example.com"),
    )
    contact, _ = escalate(tenant)
    actions.claim_contact(contact, alice)
    url = reverse("desk:reassign", kwargs={"contact_id": contact.public_id})
    client.force_login(alice)
    assert client.post(url, {"to": "bob@example.com"}).status_code == 403
    client.force_login(make_member(tenant, Role.LEAD))
    assert client.post(url, {"to": "bob@example.com"}).status_code == 302
    contact.refresh_from_db()
    assert contact.assigned_to == bob


def test_reassigning_to_someone_outside_the_tenant_is_refused(client):
    tenant = make_tenant()
    outsider = make_member(make_tenant(), Role.SPECIALIST, "out@example.com")
    contact, _ = escalate(tenant)
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.post(
        reverse("desk:reassign", kwargs={"contact_id": contact.public_id}), {"to": outsider.email}
    )
    assert response.status_code == 400
    assert "cannot decide" in response.content.decode()


def test_internal_notes_are_never_sent_to_the_customer(client):
    tenant = make_tenant()
    contact, _ = escalate(tenant)
    client.force_login(make_member(tenant, Role.SPECIALIST))
    client.post(
        reverse("desk:note", kwargs={"contact_id": contact.public_id}), {"body": "Looks like fraud"}
    )
    note = contact.messages.get(direction=Message.Direction.INTERNAL)
    assert note.body == "Looks like fraud"
    assert not contact.messages.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_reply_keeps_the_case_open_and_claims_it(client):
    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST)
    contact, _ = escalate(tenant)
    client.force_login(user)
    client.post(
        reverse("desk:reply", kwargs={"contact_id": contact.public_id}),
        {"body": "Could you send a photo?"},
    )
    contact.refresh_from_db()
    assert contact.status == Contact.Status.ESCALATED
    assert contact.assigned_to == user
    assert (
        contact.messages.get(direction=Message.Direction.OUTBOUND).body == "Could you send a photo?"
    )


def test_a_failed_execution_can_be_closed_with_a_reply():
    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST)
    contact, proposal = escalate(tenant)
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.FAILED)
    actions.reject_proposal(
        proposal,
        user,
        reason_code="other",
        reply="We could not refund automatically; done by hand.",
    )
    contact.refresh_from_db()
    assert contact.status == Contact.Status.RESOLVED


def test_a_cancellation_above_the_specialist_limit_waits_for_a_lead():
    tenant = make_tenant(specialist_approval_limit=Decimal("100"))
    _, proposal = escalate(tenant, kind=Proposal.Kind.CANCEL_ORDER, amount="300.00")
    actions.approve_proposal(
        proposal,
        make_member(tenant, Role.SPECIALIST),
        role=Role.SPECIALIST,
        reason_code="policy_ok",
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING_LEAD
    assert proposal.amount == Decimal("300.00")


def test_the_ledger_names_the_specialist_decision_behind_an_approved_action():
    tenant = make_tenant()
    _, proposal = escalate(tenant, total="150.00", amount="150.00")
    decision = actions.approve_proposal(
        proposal, make_member(tenant, Role.SPECIALIST), role=Role.SPECIALIST, reason_code="ok"
    )
    actions.execute_proposal(proposal.pk)

    record = UsageRecord.objects.get(tenant=tenant)
    assert record.kind == UsageRecord.Kind.HUMAN_RESOLUTION
    assert record.basis["human_decision"] == str(decision.public_id)


def test_the_ledger_names_the_decision_that_turned_a_proposal_down_and_answered():
    tenant = make_tenant()
    contact, proposal = escalate(tenant)
    user = make_member(tenant, Role.SPECIALIST)
    actions.claim_contact(contact, user)
    decision = actions.reject_proposal(
        proposal, user, reason_code="policy", reply="We cannot refund this order."
    )

    record = UsageRecord.objects.get(tenant=tenant)
    assert record.kind == UsageRecord.Kind.HUMAN_RESOLUTION
    assert record.basis["human_decision"] == str(decision.public_id)


def test_the_evidence_says_when_a_customer_s_contacts_were_counted_only_up_to_the_cap(client):
    tenant = make_tenant()
    contact, proposal = escalate(tenant)
    customer = {"contacts_90d": 50, "contacts_90d_or_more": True, "refunds_90d": 0}
    Proposal.objects.filter(pk=proposal.pk).update(
        evidence={**proposal.evidence, "customer": customer}
    )
    client.force_login(make_member(tenant, Role.SPECIALIST))

    page = client.get(reverse("desk:contact", kwargs={"contact_id": contact.public_id}))

    assert "50 or more other contacts" in page.content.decode()
