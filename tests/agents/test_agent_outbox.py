"""The agent's messages leave from its own task: committed for real, then sent by the
worker that decided, with no send task of their own."""

from __future__ import annotations

import pytest
from django.core import mail

from agents.tasks import handle_contact
from desk import tasks as desk_tasks
from desk.celery import app
from desk.models import Proposal
from integrations.messaging import tasks as outbox_tasks
from integrations.messaging.actions import opt_out
from integrations.messaging.models import OutboundMessage
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


def test_the_agent_sends_its_reply_and_survey_itself(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="where is my order??")

    assert handle_contact.run(contact_id=contact.pk) == "resolved"

    assert _sent_to(order.email) == (["sent", "sent"], [order.email, order.email])
    assert SEND_TASKS.isdisjoint(tasks_asked)


def test_an_executed_refund_sends_its_reply_and_survey_from_the_execution(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant, total="45.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="I want a refund please")
    handle_contact.run(contact_id=contact.pk)
    assert "desk.execute_proposal" in tasks_asked
    proposal = Proposal.objects.get(contact=contact, status=Proposal.Status.APPROVED)

    assert desk_tasks.execute_proposal.run(proposal_id=proposal.pk) == "executed"

    assert _sent_to(order.email) == (["sent", "sent"], [order.email, order.email])
    assert SEND_TASKS.isdisjoint(tasks_asked)


def test_an_opted_out_customer_gets_neither_reply_nor_survey(tasks_asked):
    tenant = make_tenant()
    order = make_order(tenant)
    opt_out(tenant, "email", order.email.upper(), source="test")
    contact = make_contact(tenant, order=order, body="where is my order??")

    handle_contact.run(contact_id=contact.pk)

    assert _sent_to(order.email) == (["skipped", "skipped"], [])
    assert set(
        OutboundMessage.objects.filter(to=order.email).values_list("skip_reason", flat=True)
    ) == {"opted_out"}
