"""Worker configuration that keeps a task from running twice or getting lost."""

from __future__ import annotations

import pytest
from celery import Celery

from desk.celery import MisconfiguredBroker, app, check_visibility_timeout


def test_tasks_are_acknowledged_late_and_requeued_if_a_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_the_shipped_configuration_passes_the_start_up_check():
    check_visibility_timeout(app.conf)


def test_a_visibility_timeout_shorter_than_a_task_refuses_to_start():
    other = Celery("other")
    other.conf.update(
        task_acks_late=True,
        task_time_limit=900,
        broker_transport_options={"visibility_timeout": 600},
    )
    with pytest.raises(MisconfiguredBroker, match="must exceed"):
        check_visibility_timeout(other.conf)


def test_work_is_routed_to_separate_queues():
    routes = app.conf.task_routes
    assert routes["agents.*"]["queue"] == "agents"
    assert routes["desk.execute_proposal"]["queue"] == "actions"
    assert routes["billing.*"]["queue"] == "sla"


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("agents.handle_contact", "agents"),
        ("agents.evaluate_nudges", "nudges"),
        ("agents.follow_up_scan", "nudges"),
        ("agents.close_interrupted_runs", "sla"),
        ("agents.apply_retention", "sla"),
        ("desk.execute_proposal", "actions"),
        ("desk.sweep_sla", "sla"),
        ("desk.reopen_missed", "sla"),
        ("integrations.process_webhook", "intake"),
        ("integrations.send_messages", "nudges"),
        ("integrations.fail_interrupted_sends", "nudges"),
        ("integrations.refresh_tracking", "actions"),
    ],
)
def test_each_task_goes_to_its_queue_by_name_whoever_sends_it(task, queue):
    # Routes, not task attributes: a task sent by name (send_task, the stalled-work
    # sweep) lands where one sent with .delay() does.
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next():
    # Without a reuse count Celery's Django fix-up closes the connection around
    # every task, so each task would start a PostgreSQL backend of its own.
    assert app.conf.get("CELERY_DB_REUSE_MAX") >= 100_000


@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_is_closed_after_the_task_not_kept(monkeypatch):
    from django.db import connection

    from desk.celery import _close_old_connections

    connection.ensure_connection()
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    connection.errors_occurred = True

    _close_old_connections()

    assert connection.connection is None


def test_a_starting_worker_runs_nicer_than_the_web(monkeypatch):
    from desk import celery as desk_celery

    asked = []
    monkeypatch.setattr(desk_celery.os, "nice", asked.append)
    monkeypatch.setattr(desk_celery, "WORKER_NICENESS", 10)
    desk_celery._yield_cpu_to_the_web()
    monkeypatch.setattr(desk_celery, "WORKER_NICENESS", 0)
    desk_celery._yield_cpu_to_the_web()

    assert asked == [10]  # and nothing where web and workers do not share CPUs
