"""A resolved contact comes back to the desk when the customer answers its resolution
or the answer never reached them. An AI resolution that comes back within 72 hours
did not deflect: it is billed at the human price, and a contact is billed once
however often it comes back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing.models import UsageRecord
from desk import actions
from desk.actions import ProposalDraft, reopen, submit_proposal
from desk.models import Contact, Message, Proposal, SlaClock
from integrations.messaging import actions as outbox
from integrations.messaging import tasks
from integrations.messaging.clients import PermanentError
from integrations.messaging.models import OutboundMessage
from tenants.actor import Actor
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.desk.test_deciding import escalate
from tests.factories import make_customer, make_member, make_order, make_tenant
from tests.integrations.messaging.test_inbound import (
    _email_connection,
    _postmark,
    post_email,
    thread_received,
)

pytestmark = pytest.mark.django_db

ANSWER = "Your parcel arrives tomorrow."
AI_FIRST = [UsageRecord.Kind.AI_RESOLUTION]
CONVERTED = sorted(
    [
        UsageRecord.Kind.AI_RESOLUTION,
        UsageRecord.Kind.AI_REVERSAL,
        UsageRecord.Kind.HUMAN_CONVERSION,
    ]
)


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _resolved_by_ai(tenant) -> Contact:
    customer = make_customer(tenant, "ada@example.com")
    order = make_order(tenant, customer=customer)
    contact = Contact.objects.create(
        tenant=tenant, order=order, customer=customer, customer_email=order.email, channel="email"
    )
    Message.objects.create(
        contact=contact, direction="inbound", author_type="customer", body="Where is it?"
    )
    submit_proposal(
        contact,
        ProposalDraft(
            kind=Proposal.Kind.REPLY, reply_draft=ANSWER, confidence=Decimal("0.95"), rationale=""
        ),
        guardrails=[],
        actor=Actor.agent(),
    )
    contact.refresh_from_db()
    assert contact.resolution == Contact.Resolution.AI
    return contact


@pytest.fixture
def provider_refuses(django_capture_on_commit_callbacks):
    """Mark an outbox row failed as a provider's refusal does; what its commit sets off
    (the desk hearing of it) runs, as it does once a real transaction commits."""

    def refuse(row: OutboundMessage, error: str = "Bounced", code: str = "") -> None:
        with django_capture_on_commit_callbacks(execute=True):
            outbox.fail(row, PermanentError(error, code=code))

    return refuse


def _ledger(contact) -> list[str]:
    return sorted(
        UsageRecord.objects.filter(contact_ref=contact.public_id).values_list("kind", flat=True)
    )


def _outbox_row(contact, body: str) -> OutboundMessage:
    message = contact.messages.get(direction="outbound", body=body)
    return OutboundMessage.objects.get(idempotency_key=f"desk-message:{message.pk}")


def _survey_row(contact) -> OutboundMessage:
    message = contact.messages.get(direction="outbound", raw__kind="csat_survey")
    return OutboundMessage.objects.get(idempotency_key=f"desk-message:{message.pk}")


def test_a_reopened_ai_resolution_needs_a_human_and_is_billed_as_one_once():
    tenant = make_tenant()
    contact = _resolved_by_ai(tenant)
    assert _ledger(contact) == AI_FIRST

    assert reopen(contact, "The customer answered the resolution.", actor=Actor.system("test"))
    contact.refresh_from_db()
    assert (contact.status, contact.resolution, contact.resolved_at) == ("escalated", "", None)
    assert contact.escalation_reason == "The customer answered the resolution."
    proposal = contact.current_proposal
    assert (proposal.kind, proposal.status) == ("none", "proposed")
    assert proposal.guardrails == [
        {"name": "reopened", "passed": False, "detail": "The customer answered the resolution."}
    ]
    decision = SlaClock.objects.get(contact=contact, target="decision")
    assert decision.state == "running" and decision.due_at > timezone.now()
    assert contact.sla_due_at == decision.due_at
    assert _ledger(contact) == CONVERTED
    event = AuditEvent.objects.get(tenant=tenant, verb="contact.reopen")
    assert event.data["billing_converted"] is True

    # Reopening what is already open changes nothing.
    assert not reopen(contact, "Again", actor=Actor.system("test"))

    # The specialist answers; the contact is resolved by a human, and billed no more.
    specialist = make_member(tenant, Role.SPECIALIST)
    actions.claim_contact(contact, specialist)
    actions.reject_proposal(
        proposal, specialist, reason_code="needs_info", reply="It is with the carrier today."
    )
    contact.refresh_from_db()
    assert (contact.status, contact.resolution) == ("resolved", "human")
    assert _ledger(contact) == CONVERTED

    # A human resolution that comes back stays a human one, and its stopped decision
    # clock runs again with its whole budget.
    assert SlaClock.objects.get(contact=contact, target="decision").state == "stopped"
    assert reopen(contact, "The customer answered the resolution.", actor=Actor.system("test"))
    assert _ledger(contact) == CONVERTED
    again = SlaClock.objects.get(contact=contact, target="decision")
    assert (again.state, again.consumed_seconds, again.stopped_at) == ("running", 0, None)
    assert again.due_at > timezone.now()


def test_an_ai_resolution_reopened_after_72_hours_stays_billed_as_ai():
    contact = _resolved_by_ai(make_tenant())
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert reopen(contact, "The answer did not reach the customer", actor=Actor.agent())
    contact.refresh_from_db()
    assert contact.status == "escalated"
    assert _ledger(contact) == AI_FIRST


def _customer_answers(client, contact, text: str):
    """The resolution's answer goes out by email and the customer replies to it (their
    mail names ours in In-Reply-To); what the desk made of the reply."""
    inbox = _email_connection(contact.tenant)
    row = _outbox_row(contact, ANSWER)
    outbox.send_now(row.pk)
    row.refresh_from_db()
    post_email(
        client,
        inbox,
        _postmark(text=text, headers=[{"Name": "In-Reply-To", "Value": row.provider_id}]),
    )
    [threaded] = thread_received()
    return threaded


def test_an_email_answering_a_resolution_reopens_its_contact(client):
    contact = _resolved_by_ai(make_tenant())

    threaded = _customer_answers(client, contact, "It did not come.")

    assert (threaded.state, threaded.contact_public_id) == ("threaded", contact.public_id)
    contact.refresh_from_db()
    assert contact.status == "escalated"
    assert contact.messages.filter(direction="inbound").last().body == "It did not come."
    assert _ledger(contact) == CONVERTED


def test_an_email_answering_a_resolution_older_than_72_hours_starts_a_new_contact(client):
    contact = _resolved_by_ai(make_tenant())
    Contact.objects.filter(pk=contact.pk).update(resolved_at=timezone.now() - timedelta(hours=73))

    threaded = _customer_answers(client, contact, "Another order now")

    assert threaded.state == "new_contact"
    contact.refresh_from_db()
    assert contact.status == "resolved"
    assert _ledger(contact) == AI_FIRST


def test_an_answer_that_fails_brings_its_contact_back_to_the_inbox(provider_refuses):
    contact = _resolved_by_ai(make_tenant())
    provider_refuses(_outbox_row(contact, ANSWER), "550 Mailbox unavailable", "550")

    contact.refresh_from_db()
    assert contact.status == "escalated"
    assert (
        contact.escalation_reason
        == "The answer did not reach the customer: 550 Mailbox unavailable"
    )
    assert _ledger(contact) == CONVERTED
    event = AuditEvent.objects.get(tenant=contact.tenant, verb="contact.reopen")
    assert event.actor_label == "outbox"


def test_a_failed_survey_or_an_earlier_message_leaves_the_resolution_alone(provider_refuses):
    contact = _resolved_by_ai(make_tenant())
    provider_refuses(_survey_row(contact), "Mailbox full", "452")
    contact.refresh_from_db()
    assert contact.status == "resolved"

    # A holding message sent before the answer, failing late, says nothing about the answer.
    earlier = Message.objects.create(
        contact=contact,
        direction="outbound",
        author_type="agent",
        body="We are looking into it.",
        created_at=contact.created_at,
    )
    from desk.delivery import deliver

    deliver(earlier)
    provider_refuses(_outbox_row(contact, "We are looking into it."))
    contact.refresh_from_db()
    assert contact.status == "resolved"
    assert _ledger(contact) == AI_FIRST


def test_a_failed_reply_on_an_open_contact_only_shows_on_it(
    provider_refuses, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact, _ = escalate(tenant)
    specialist = make_member(tenant, Role.SPECIALIST)
    with django_capture_on_commit_callbacks(execute=True):
        actions.claim_contact(contact, specialist)
        actions.send_reply(contact, specialist, "Could you send a photo?")
    provider_refuses(_outbox_row(contact, "Could you send a photo?"))
    contact.refresh_from_db()
    assert contact.status == "escalated"
    assert not AuditEvent.objects.filter(verb="contact.reopen").exists()


def test_an_answer_sent_by_the_task_that_fails_permanently_reopens_once(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The send task's own path: the provider refuses, the row fails, the contact reopens."""
    contact = _resolved_by_ai(make_tenant())
    row = _outbox_row(contact, ANSWER)

    def refuse(self, message, **kwargs):
        raise PermanentError("Recipient address rejected", code="406")

    from integrations.messaging.clients import EmailClient

    monkeypatch.setattr(EmailClient, "send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_messages.run(message_ids=[row.pk])
        tasks.send_messages.run(message_ids=[row.pk])  # redelivered: the row is failed already
    row.refresh_from_db()
    assert row.state == "failed"
    contact.refresh_from_db()
    assert contact.status == "escalated"
    assert AuditEvent.objects.filter(tenant=contact.tenant, verb="contact.reopen").count() == 1
    assert _ledger(contact) == CONVERTED
    assert mail.outbox == []


def test_an_email_that_only_says_thanks_joins_the_resolution_without_reopening_it(client):
    contact = _resolved_by_ai(make_tenant())

    threaded = _customer_answers(client, contact, "Great, thank you so much!")

    assert (threaded.state, threaded.contact_public_id) == ("threaded", contact.public_id)
    contact.refresh_from_db()
    assert (contact.status, contact.resolution) == ("resolved", "ai")
    assert contact.messages.filter(direction="inbound").last().body == "Great, thank you so much!"
    assert _ledger(contact) == AI_FIRST


def test_the_packet_of_a_reopened_contact_says_why_and_offers_the_reply(client):
    from django.urls import reverse

    tenant = make_tenant()
    contact = _resolved_by_ai(tenant)
    reopen(contact, "The customer answered the resolution.", actor=Actor.system("test"))
    client.force_login(make_member(tenant, Role.SPECIALIST))
    page = client.get(reverse("desk:contact", kwargs={"contact_id": contact.public_id}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "The customer answered the resolution." in body
    assert ANSWER in body  # the earlier answer stays in the conversation
    inbox = client.get(reverse("desk:inbox")).content.decode()
    assert str(contact.public_id) in inbox
    assert '<em class="badge">came back</em>' in inbox


def test_a_customer_answered_another_way_is_resolved_with_a_note_and_no_message(
    client, provider_refuses
):
    from django.urls import reverse

    tenant = make_tenant()
    contact = _resolved_by_ai(tenant)
    provider_refuses(_outbox_row(contact, ANSWER), "550 Mailbox unavailable", "550")
    contact.refresh_from_db()
    proposal = contact.current_proposal
    specialist = make_member(tenant, Role.SPECIALIST)
    actions.claim_contact(contact, specialist)
    client.force_login(specialist)
    url = reverse(
        "desk:reject", kwargs={"contact_id": contact.public_id, "proposal_id": proposal.public_id}
    )
    sent_before = contact.messages.filter(direction="outbound").count()

    refused = client.post(url, {"reason_code": "other", "reply": "", "note": ""})
    assert refused.status_code == 400
    assert "say in the note how the customer was answered" in refused.content.decode()

    done = client.post(
        url, {"reason_code": "other", "reply": "", "note": "Phoned her; new address in the store."}
    )
    assert done.status_code == 302
    contact.refresh_from_db()
    assert (contact.status, contact.resolution) == ("resolved", "human")
    # No answer is written; the survey the reopening withdrew is asked afresh, a day on.
    written = contact.messages.filter(direction="outbound").order_by("pk")[sent_before:]
    assert [m.raw.get("kind") for m in written] == ["csat_survey"]
    assert proposal.decisions.get().note == "Phoned her; new address in the store."
    assert _ledger(contact) == CONVERTED


def test_a_failure_whose_reopen_was_lost_is_found_by_the_sweep():
    from desk.delivery import reopen_missed

    contact = _resolved_by_ai(make_tenant())
    row = _outbox_row(contact, ANSWER)
    # As a process that died between the failure's commit and the reopen leaves it.
    OutboundMessage.objects.filter(pk=row.pk).update(
        state="failed", error="550 Mailbox unavailable", failed_at=timezone.now()
    )
    # A failed survey, and another contact's failed answer from before it was last
    # resolved (closed since without writing), are left alone.
    outbox.fail(_survey_row(contact), PermanentError("Mailbox full"))
    closed = _resolved_by_ai(make_tenant())
    OutboundMessage.objects.filter(pk=_outbox_row(closed, ANSWER).pk).update(
        state="failed", failed_at=timezone.now() - timedelta(hours=1)
    )

    assert reopen_missed() == 1
    assert reopen_missed() == 0
    contact.refresh_from_db()
    closed.refresh_from_db()
    assert (contact.status, closed.status) == ("escalated", "resolved")
    assert contact.escalation_reason == (
        "The answer did not reach the customer: 550 Mailbox unavailable"
    )
