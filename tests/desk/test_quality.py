"""Reply macros, the holding message, and blind review of AI resolutions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from desk import actions
from desk.actions import ProposalDraft, submit_proposal
from desk.models import Macro, Message, Proposal, QaReview
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_tasks(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _draft(kind=Proposal.Kind.REPLY, amount=None):
    return ProposalDraft(
        kind=kind,
        amount=amount,
        currency="USD",
        reply_draft="On its way.",
        confidence=Decimal("0.9"),
        rationale="",
    )


def test_a_macro_is_filled_from_the_case(client):
    tenant = make_tenant(name="Northwind")
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, customer_name="Maya Garcia")
    lead = make_member(tenant, Role.LEAD)
    macro = actions.save_macro(
        tenant,
        lead,
        name="Delay",
        body="Hi {customer_name}, {order_number} is with {carrier} ({tracking_number}). {merchant}",
    )
    shipment = order.shipments.get()
    assert actions.fill_macro(macro, contact) == (
        f"Hi Maya, #{order.number} is with UPS ({shipment.tracking_number}). Northwind"
    )

    client.force_login(make_member(tenant, Role.SPECIALIST))
    submit_proposal(
        contact,
        _draft(Proposal.Kind.NONE),
        guardrails=[{"name": "x", "passed": False, "detail": "x"}],
        actor=Actor.agent(),
    )
    html = client.get(
        reverse("desk:contact", kwargs={"contact_id": contact.public_id}),
        {"macro": macro.public_id},
    ).content.decode()
    assert "Hi Maya," in html


def test_customer_text_in_a_macro_variable_is_not_expanded_again():
    tenant = make_tenant(name="Northwind")
    contact = make_contact(
        tenant, order=make_order(tenant), customer_name="{merchant}{{ settings.SECRET_KEY }}"
    )
    macro = Macro.objects.create(
        tenant=tenant, name="Hi", body="Hi {customer_name}, from {merchant} {unknown}"
    )
    assert actions.fill_macro(macro, contact) == "Hi {merchant}{{, from Northwind {unknown}"


def test_escalation_sends_the_tenants_holding_message_once():
    tenant = make_tenant(holding_message="Thanks, a specialist is on it.")
    contact = make_contact(tenant, order=make_order(tenant))
    submit_proposal(
        contact,
        _draft(Proposal.Kind.NONE),
        guardrails=[{"name": "x", "passed": False, "detail": "x"}],
        actor=Actor.agent(),
    )
    holding = contact.messages.filter(direction=Message.Direction.OUTBOUND)
    assert [m.body for m in holding] == ["Thanks, a specialist is on it."]


def test_no_holding_message_unless_the_tenant_wants_one():
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant))
    submit_proposal(
        contact,
        _draft(Proposal.Kind.NONE),
        guardrails=[{"name": "x", "passed": False, "detail": "x"}],
        actor=Actor.agent(),
    )
    assert not contact.messages.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_stable_share_of_ai_resolutions_is_sampled_for_review():
    tenant = make_tenant(qa_sample_percent=50)
    contacts = [make_contact(tenant, order=make_order(tenant)) for _ in range(40)]
    for contact in contacts:
        submit_proposal(contact, _draft(), guardrails=[], actor=Actor.agent())
    sampled = QaReview.objects.filter(tenant=tenant).count()
    assert 8 <= sampled <= 32
    assert all(actions.sampled_for_qa(r.contact) for r in QaReview.objects.filter(tenant=tenant))


def test_nothing_is_sampled_at_zero_percent():
    tenant = make_tenant(qa_sample_percent=0)
    submit_proposal(
        make_contact(tenant, order=make_order(tenant)), _draft(), guardrails=[], actor=Actor.agent()
    )
    assert not QaReview.objects.exists()


def test_verdicts_give_the_false_approve_rate(client):
    tenant = make_tenant(qa_sample_percent=100)
    for _ in range(4):
        submit_proposal(
            make_contact(tenant, order=make_order(tenant)),
            _draft(),
            guardrails=[],
            actor=Actor.agent(),
        )
    lead = make_member(tenant, Role.LEAD)
    client.force_login(lead)
    reviews = list(QaReview.objects.filter(tenant=tenant))
    for review, verdict in zip(
        reviews, ["incorrect", "correct", "correct", "correct"], strict=True
    ):
        client.post(
            reverse("desk:qa", kwargs={"slug": tenant.slug}),
            {"review": review.public_id, "verdict": verdict},
        )
    html = client.get(reverse("desk:qa", kwargs={"slug": tenant.slug})).content.decode()
    assert '<b id="false-approve-rate">25%</b>' in html


def test_replies_leave_through_the_outbox_on_the_customers_channel():
    from integrations.messaging.models import OutboundMessage

    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant), channel="email")
    submit_proposal(contact, _draft(), guardrails=[], actor=Actor.agent())
    queued = OutboundMessage.objects.filter(tenant=tenant).order_by("pk")
    assert [m.body for m in queued if "On its way." in m.body] == ["On its way."]
    assert {m.channel for m in queued} == {"email"}
    assert {m.to for m in queued} == {contact.customer_email}
