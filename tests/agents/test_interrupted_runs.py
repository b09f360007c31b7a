"""A worker killed mid-run leaves no run "running" for ever: a sweep closes it, the
stalled-work sweep queues the contact again, and the next run handles the contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentRun
from agents.tasks import INTERRUPTED_RUN_GRACE, close_interrupted_runs
from desk.celery import app
from desk.models import Contact
from desk.tasks import requeue_stalled
from tests.agents.helpers import run_agent
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks the sweep sends by name, instead of the broker's."""
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, kwargs, **_: sent.append((name, kwargs)))
    return sent


def _left_by_a_killed_worker(contact, *, minutes_ago: float) -> AgentRun:
    """What handle_contact leaves when its worker dies after starting the run."""
    started = timezone.now() - timedelta(minutes=minutes_ago)
    Contact.objects.filter(pk=contact.pk).update(created_at=started)
    return AgentRun.objects.create(
        tenant=contact.tenant, contact=contact, planner="embedded", started_at=started
    )


def test_the_sweep_closes_the_lost_run_and_the_contact_is_handled_again(
    client, queued, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant), body="where is my order")
    lost = _left_by_a_killed_worker(
        contact, minutes_ago=INTERRUPTED_RUN_GRACE.total_seconds() / 60 + 1
    )

    assert requeue_stalled.run() == 1
    assert queued == [("agents.handle_contact", {"contact_id": contact.pk})]
    assert close_interrupted_runs.run() == 1
    lost.refresh_from_db()
    assert lost.outcome == AgentRun.Outcome.FAILED
    assert lost.error == "Interrupted: the worker stopped before the run finished."
    assert lost.finished_at is not None

    assert run_agent(contact, django_capture_on_commit_callbacks).status == "resolved"
    client.force_login(make_member(tenant, "specialist"))
    page = client.get(reverse("agents:trace", kwargs={"contact_id": contact.public_id}))
    text = page.content.decode()
    assert "embedded run · Resolved" in text and "embedded run · Failed" in text
    assert "Interrupted: the worker stopped" in text


def test_a_run_younger_than_the_grace_may_still_be_working_and_is_left_alone(queued):
    tenant = make_tenant()
    contact = make_contact(tenant, order=make_order(tenant), body="where is my order")
    young = _left_by_a_killed_worker(
        contact, minutes_ago=INTERRUPTED_RUN_GRACE.total_seconds() / 60 - 1
    )
    assert close_interrupted_runs.run() == 0
    young.refresh_from_db()
    assert young.outcome == AgentRun.Outcome.RUNNING


def test_the_run_grace_outlasts_the_agent_task_and_beat_runs_the_sweep():
    from agents.tasks import handle_contact

    limit = handle_contact.time_limit or app.conf.task_time_limit
    assert limit < INTERRUPTED_RUN_GRACE.total_seconds()
    assert "close-interrupted-runs" in app.conf.beat_schedule
