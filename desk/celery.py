"""The Celery app: workers and beat load settings from Django."""

from __future__ import annotations

import os

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")

# Every task counts its deliveries and ends in the dead-letter queue instead of looping.
app = Celery("desk", task_cls="desk.dead_letters:GuardedTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_SECONDS = 5


def heartbeat_key(hostname: str) -> str:
    from django.conf import settings

    return f"{settings.CACHES['default']['KEY_PREFIX']}:worker-heartbeat:{hostname}"


def _beat(worker, *, alive: bool = True) -> None:
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        if alive:
            client.set(heartbeat_key(worker.hostname), "1", ex=HEARTBEAT_SECONDS * 3)
        else:
            client.delete(heartbeat_key(worker.hostname))
    except redis.RedisError:
        pass  # /healthz will say the worker is gone; the worker itself carries on


class Heartbeat(bootsteps.StartStopStep):
    """Every few seconds a live worker refreshes a short-lived Redis key, so
    /healthz can tell workers are up without a broadcast ping's round trip."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker) -> None:
        _beat(worker)
        self.tref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, _beat, (worker,), priority=10)

    def stop(self, worker) -> None:
        if getattr(self, "tref", None) is not None:
            self.tref.cancel()
        _beat(worker, alive=False)


app.steps["worker"].add(Heartbeat)


@signals.worker_process_init.connect
def _start_tracing(**_kwargs) -> None:
    # In each pool process, after the fork: the exporter's batch thread would not
    # survive it.
    from agents import telemetry

    telemetry.configure()


class MisconfiguredBroker(RuntimeError):
    pass


def check_visibility_timeout(conf) -> None:
    """Redis re-delivers an unacknowledged task after the visibility timeout. With
    late acknowledgement, a timeout shorter than the longest task would hand a
    task still running to a second worker: refuse to start instead."""
    visibility = conf.broker_transport_options.get("visibility_timeout", 3600)
    longest = conf.task_time_limit or 0
    if conf.task_acks_late and visibility <= longest:
        raise MisconfiguredBroker(
            f"Broker visibility timeout {visibility}s must exceed the task time limit {longest}s"
        )


@signals.worker_init.connect
def _check_broker_on_start(sender=None, **kwargs) -> None:
    check_visibility_timeout(app.conf)


# Where web and workers share a machine, the web answers first: a webhook is
# acknowledged and a page served while the backlog waits a little. The worker
# (and the pool processes it forks) runs this much nicer; 0 where they do not
# share CPUs.
WORKER_NICENESS = int(os.environ.get("WORKER_NICENESS", "10"))


@signals.worker_init.connect
def _yield_cpu_to_the_web(sender=None, **kwargs) -> None:
    if WORKER_NICENESS > 0:
        os.nice(WORKER_NICENESS)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """Around each task, close a database connection that broke or outlived
    DB_CONN_MAX_AGE, as Django does around each request; a healthy one is kept
    for the next task (settings.CELERY_DB_REUSE_MAX)."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
