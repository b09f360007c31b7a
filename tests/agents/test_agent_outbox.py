"""The agent's messages leave from its own task: committed for real, then sent by the
worker that decided, with no send task of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from agents.tasks import handle_contact
from desk import actions as desk_actions
from desk import tasks as desk_tasks
from desk.celery import app
from desk.models import Contact, Proposal
from integrations.executors import ExecutionError
from integrations.messaging import tasks as outbox_tasks
from integrations.messaging.actions import opt_out, send_now
from integrations.messaging.models import OutboundMessage
from integrations.models import Refund
from tests.factories import make_contact, make_order, make_tenant

# Real commits: the messages are sent after them, as in a worker.
pytestmark = pytest.mark.django_db(transaction=True)

SEND_TASKS = {outbox_tasks.send_message.name, outbox_tasks.send_messages.name}


@pytest.fixture
def tasks_asked(monkeypatch):
    """Every task asked for, by name, instead of the broker's."""
    asked = []
    monkeypatch.setattr(app, "send_task", lambda name, **kw: asked.append(name))
    for task in (outbox_tasks.send_message, outbox_tasks.send_messages):
        monkeypatch.setattr(task, "delay", lambda *a, _name=task.name, **kw: asked.append(_name))
        monkeypatch.setattr(
            task, "apply_async", lambda *a, _name=task.name, **kw: asked.append(_name)
        )
    return asked


def _sent_to(address):
    return sorted(
        OutboundMessage.objects.filter(to=address).values_list("state", flat=True)
    ), sorted(m.to[0] for m in mail.outbox)


def _a_day_later():
    return timezone.now() + timedelta(hours=24, minutes=1)


def test_the_agent_sends_its_reply_itself_and_the_survey_waits_a_day(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="where is my order??")

    assert handle_contact.run(contact_id=contact.pk) == "resolved"

    assert _sent_to(order.email) == (["queued", "sent"], [order.email])
    survey = OutboundMessage.objects.get(to=order.email, state="queued")
    assert survey.defer_reason == "csat_delay"
    assert survey.send_after == contact.messages.get(raw__kind="csat_survey").created_at + (
        timedelta(hours=24)
    )
    assert SEND_TASKS.isdisjoint(tasks_asked)


def test_with_no_survey_delay_the_agent_sends_the_survey_with_its_reply(tasks_asked):
    tenant = make_tenant(csat_survey_delay_hours=0)
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="where is my order??")

    assert handle_contact.run(contact_id=contact.pk) == "resolved"

    assert _sent_to(order.email) == (["sent", "sent"], [order.email, order.email])
    assert SEND_TASKS.isdisjoint(tasks_asked)


def test_a_refund_the_agent_may_make_alone_is_made_and_answered_by_its_own_task(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund please")

    assert handle_contact.run(contact_id=contact.pk) == "resolved"

    assert Proposal.objects.get(contact=contact).status == Proposal.Status.EXECUTED
    assert Refund.objects.filter(order=order).count() == 1
    assert _sent_to(order.email) == (["queued", "sent"], [order.email])
    assert "desk.execute_proposal" not in tasks_asked
    assert SEND_TASKS.isdisjoint(tasks_asked)


def test_an_approved_refund_the_store_turns_away_for_now_goes_to_the_execution_task(
    tasks_asked, monkeypatch
):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund please")

    def store_down(*args, **kwargs):
        raise ExecutionError("The store answered 503")

    monkeypatch.setattr(desk_actions, "_execute_refund", store_down)

    assert handle_contact.run(contact_id=contact.pk) == "resolved"

    proposal = Proposal.objects.get(contact=contact)
    assert proposal.status == Proposal.Status.APPROVED
    assert "desk.execute_proposal" in tasks_asked
    monkeypatch.undo()
    assert desk_tasks.execute_proposal.run(proposal_id=proposal.pk) == "executed"
    assert _sent_to(order.email) == (["queued", "sent"], [order.email])


def test_an_approved_refund_the_store_refuses_for_good_is_escalated_by_the_agent(
    tasks_asked, monkeypatch
):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund please")

    def refused(*args, **kwargs):
        raise ExecutionError("The order was archived", permanent=True)

    monkeypatch.setattr(desk_actions, "_execute_refund", refused)

    assert handle_contact.run(contact_id=contact.pk) == "escalated"

    contact.refresh_from_db()
    assert contact.status == Contact.Status.ESCALATED
    assert Proposal.objects.get(contact=contact).status == Proposal.Status.FAILED
    assert "desk.execute_proposal" not in tasks_asked


def test_an_opted_out_customer_gets_neither_reply_nor_survey(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant)
    opt_out(tenant, "email", order.email.upper(), source="test")
    contact = make_contact(tenant, order=order, body="where is my order??")

    handle_contact.run(contact_id=contact.pk)
    # The survey's opt-out is read when it falls due, as every message's is.
    send_now(OutboundMessage.objects.get(to=order.email, state="queued").pk, now=_a_day_later())

    assert _sent_to(order.email) == (["skipped", "skipped"], [])
    assert set(
        OutboundMessage.objects.filter(to=order.email).values_list("skip_reason", flat=True)
    ) == {"opted_out"}
