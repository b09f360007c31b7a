"""The satisfaction survey waits the merchant's delay after a resolution (a day
unless they choose otherwise), so the customer rates an answer they have seen
hold; a contact that reopens meanwhile is not asked to rate it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from desk import actions, csat
from desk.delivery import KEY_PREFIX
from desk.models import Contact, Message
from integrations.messaging.actions import due_message_ids, send_now
from integrations.messaging.models import OutboundMessage
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _resolve(contact: Contact, capture, reply: str = "It is on its way.") -> Contact:
    with capture(execute=False):
        actions.submit_proposal(
            contact,
            actions.ProposalDraft(kind="reply", reply_draft=reply, confidence=0.95, rationale=""),
            guardrails=[],
            actor=Actor.agent(),
        )
    contact.refresh_from_db()
    return contact


def _resolved(capture, **tenant_fields) -> Contact:
    """A WISMO contact the agent answered alone, at a new merchant."""
    tenant = make_tenant(**tenant_fields)
    return _resolve(make_contact(tenant, order=make_order(tenant)), capture)


def _reopen(contact: Contact, capture) -> None:
    with capture(execute=True):
        assert actions.reopen(
            contact, "The customer answered the resolution.", actor=Actor.system("test")
        )
    contact.refresh_from_db()


def _surveys(contact: Contact) -> list[Message]:
    return list(contact.messages.filter(raw__kind="csat_survey").order_by("pk"))


def _row(message: Message) -> OutboundMessage:
    return OutboundMessage.objects.get(idempotency_key=f"{KEY_PREFIX}{message.pk}")


def _answer_row(contact: Contact, body: str = "It is on its way.") -> OutboundMessage:
    return _row(contact.messages.get(direction="outbound", body=body))


def test_the_survey_waits_a_day_after_the_answer_then_the_sweep_sends_it(
    django_capture_on_commit_callbacks,
):
    contact = _resolved(django_capture_on_commit_callbacks)
    (survey,) = _surveys(contact)
    row = _row(survey)
    assert (row.state, row.defer_reason) == ("queued", csat.DEFER_REASON)
    assert row.send_after == contact.resolved_at + timedelta(hours=24)

    # The answer leaves at once; the survey is not due, and a send now leaves it alone.
    assert send_now(_answer_row(contact).pk) == "sent"
    assert send_now(row.pk) == "queued"
    an_hour_later = contact.resolved_at + timedelta(hours=1)
    assert row.pk not in due_message_ids(an_hour_later)

    a_day_later = contact.resolved_at + timedelta(hours=24, seconds=1)
    assert row.pk in due_message_ids(a_day_later)
    assert send_now(row.pk, now=a_day_later) == "sent"
    assert [m.body for m in mail.outbox] == ["It is on its way.", survey.body]


def test_a_merchant_may_send_the_survey_with_the_answer(django_capture_on_commit_callbacks):
    contact = _resolved(django_capture_on_commit_callbacks, csat_survey_delay_hours=0)
    row = _row(_surveys(contact)[0])
    assert (row.send_after, row.defer_reason) == (None, "")
    assert send_now(row.pk) == "sent"


def test_a_contact_that_reopens_before_its_survey_is_due_is_not_surveyed(
    django_capture_on_commit_callbacks,
):
    contact = _resolved(django_capture_on_commit_callbacks)
    (survey,) = _surveys(contact)

    _reopen(contact, django_capture_on_commit_callbacks)

    row = _row(survey)
    assert (row.state, row.skip_reason) == ("skipped", OutboundMessage.SkipReason.WITHDRAWN)
    survey.refresh_from_db()
    assert survey.raw == {"kind": "csat_survey", "withdrawn": True}
    # Past its time, nothing sends it.
    a_day_later = survey.created_at + timedelta(hours=25)
    assert row.pk not in due_message_ids(a_day_later)
    assert send_now(row.pk, now=a_day_later) == "skipped"
    assert not [m for m in mail.outbox if m.body == survey.body]


def test_the_next_resolution_of_a_reopened_contact_surveys_afresh(
    django_capture_on_commit_callbacks,
):
    contact = _resolved(django_capture_on_commit_callbacks)
    _reopen(contact, django_capture_on_commit_callbacks)
    specialist = make_member(contact.tenant, Role.SPECIALIST)
    actions.claim_contact(contact, specialist)
    with django_capture_on_commit_callbacks(execute=False):
        actions.reject_proposal(
            contact.current_proposal,
            specialist,
            reason_code="other",
            reply="Sorted, it is with you.",
        )
    contact.refresh_from_db()

    first, second = _surveys(contact)
    assert _row(first).state == "skipped"
    assert (_row(second).state, _row(second).defer_reason) == ("queued", csat.DEFER_REASON)
    assert _row(second).send_after == contact.resolved_at + timedelta(hours=24)


def test_a_survey_already_sent_is_not_withdrawn_and_not_asked_twice(
    django_capture_on_commit_callbacks,
):
    contact = _resolved(django_capture_on_commit_callbacks, csat_survey_delay_hours=0)
    (survey,) = _surveys(contact)
    assert send_now(_row(survey).pk) == "sent"

    _reopen(contact, django_capture_on_commit_callbacks)

    assert _row(survey).state == "sent"
    survey.refresh_from_db()
    assert "withdrawn" not in survey.raw
    # Closed again without writing (answered by phone): the customer was asked once.
    specialist = make_member(contact.tenant, Role.SPECIALIST)
    actions.claim_contact(contact, specialist)
    with django_capture_on_commit_callbacks(execute=False):
        actions.reject_proposal(
            contact.current_proposal, specialist, reason_code="other", reply="", note="Phoned."
        )
    contact.refresh_from_db()
    assert contact.status == Contact.Status.RESOLVED
    assert _surveys(contact) == [survey]


def test_the_conversation_shows_when_the_survey_leaves_or_that_it_was_withdrawn(
    client, django_capture_on_commit_callbacks
):
    contact = _resolved(django_capture_on_commit_callbacks)
    client.force_login(make_member(contact.tenant, Role.SPECIALIST))
    url = reverse("desk:contact", kwargs={"contact_id": contact.public_id})

    due = _row(_surveys(contact)[0]).send_after
    page = client.get(url).content.decode()
    assert f"Held until {due.strftime('%-d %b, %H:%M')}" in page

    _reopen(contact, django_capture_on_commit_callbacks)
    assert "Not sent: withdrawn before it was due" in client.get(url).content.decode()


def test_an_account_manager_sets_the_delay_up_to_a_week(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    url = reverse("tenants:settings", kwargs={"slug": tenant.slug})
    form = {
        "auto_refund_limit": "200",
        "daily_auto_refund_cap": "2000",
        "confidence_threshold": "0.70",
        "specialist_approval_limit": "500",
        "decision_sla_hours": "4",
        "qa_sample_percent": "5",
        "auto_action_kinds": ["reply"],
    }

    too_long = client.post(url, {**form, "csat_survey_delay_hours": "200"})
    assert too_long.status_code == 200
    assert "less than or equal to 168" in too_long.content.decode()
    assert client.post(url, {**form, "csat_survey_delay_hours": "72"}).status_code == 302
    tenant.refresh_from_db()
    assert tenant.csat_survey_delay_hours == 72
