"""Poison tasks end in the dead-letter queue instead of looping; failures are kept."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.management import call_command

from desk import dead_letters
from desk.celery import app
from desk.models import DeadLetter

pytestmark = pytest.mark.django_db

runs: list[int] = []


@app.task(name="tests.count_runs")
def count_runs(*, n: int) -> int:
    runs.append(n)
    return n


@app.task(name="tests.explode")
def explode(*, why: str) -> None:
    raise RuntimeError(why)


def _deliver(task, task_id: str, **kwargs):
    """Run the task as a worker runs a delivery of message ``task_id``."""
    task.push_request(id=task_id, retries=0, called_directly=False)
    try:
        return task(**kwargs)
    finally:
        task.pop_request()


def test_a_task_whose_worker_keeps_dying_is_set_aside_after_three_deliveries():
    runs.clear()
    task_id = str(uuid.uuid4())
    # Three deliveries of the same message run it (each time the worker "died").
    for _ in range(dead_letters.MAX_DELIVERIES):
        assert _deliver(count_runs, task_id, n=7) == 7
    # The fourth is acknowledged without running and kept for a person.
    assert _deliver(count_runs, task_id, n=7) is None
    assert runs == [7, 7, 7]
    letter = DeadLetter.objects.get(task_id=task_id)
    assert letter.task_name == "tests.count_runs"
    assert letter.kwargs == {"n": 7}
    assert letter.deliveries == 4
    assert "died each time" in letter.reason


def test_other_messages_are_counted_apart():
    task_id = str(uuid.uuid4())
    for _ in range(dead_letters.MAX_DELIVERIES):
        _deliver(count_runs, task_id, n=1)
    assert _deliver(count_runs, str(uuid.uuid4()), n=2) == 2
    assert not DeadLetter.objects.exists()


def test_a_task_that_fails_for_good_is_kept_with_its_error():
    result = explode.apply(kwargs={"why": "store said no"})
    assert result.failed()
    letter = DeadLetter.objects.get(task_id=result.id)
    assert letter.reason == "RuntimeError: store said no"
    assert letter.resolved_at is None


def test_a_dead_letter_sent_again_runs_on_a_worker_and_is_resolved(capsys, celery_worker):
    result = explode.apply(kwargs={"why": "still broken"})
    letter = DeadLetter.objects.get(task_id=result.id)
    call_command("dead_letters")
    assert "tests.explode" in capsys.readouterr().out

    call_command("dead_letters", send_again=letter.pk)
    letter.refresh_from_db()
    assert letter.resolved_at is not None
    # The worker ran it under a new id; it failed again and is kept again.
    # (Other tasks the worker meets may fail and be kept too: look for this one.)
    sent_again = DeadLetter.objects.filter(task_name="tests.explode").exclude(pk=letter.pk)
    deadline = time.monotonic() + 20
    while not sent_again.exists():
        assert time.monotonic() < deadline, "the task sent again never ran"
        time.sleep(0.1)
    again = sent_again.get()
    assert (again.task_name, again.kwargs) == ("tests.explode", {"why": "still broken"})


def test_health_reports_open_dead_letters(client):
    explode.apply(kwargs={"why": "x"})
    assert client.get("/healthz").json()["dead_letters"] == 1
