"""The dead-letter queue: tasks set aside instead of looping.

With late acknowledgement a task whose worker dies is delivered again, which
is what makes a killed worker lose nothing, and also what would make a task
that kills its worker every time (a poison message) loop forever. Every
task of the app counts its deliveries in Redis; past ``MAX_DELIVERIES`` of
the same attempt it is recorded here and acknowledged without running. A
task that fails for good (an exception it does not retry, or its retries
spent) is recorded here too.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

logger = logging.getLogger(__name__)

# Deliveries of one attempt before it is called poison. A worker killed by a
# deploy or by the out-of-memory killer costs one; three in a row is the task.
MAX_DELIVERIES = 3
COUNT_TTL_SECONDS = 24 * 3600


_clients: dict[str, Any] = {}


def _redis():
    """One client per process and address: every task counts a delivery, and a new
    client would open a new connection each time. redis-py reopens its connections
    in a forked pool process by itself."""
    import redis
    from django.conf import settings

    client = _clients.get(settings.REDIS_URL)
    if client is None:
        client = _clients[settings.REDIS_URL] = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2
        )
    return client


def _count_key(task_id: str, retries: int) -> str:
    from django.conf import settings

    return f"{settings.CACHES['default']['KEY_PREFIX']}:deliveries:{task_id}:{retries}"


def count_delivery(task_id: str, retries: int) -> int:
    """This delivery's number for the attempt (1 the first time). Without
    Redis the count is unknown and the task runs: losing work is worse."""
    import redis

    key = _count_key(task_id, retries)
    try:
        client = _redis()
        with client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, COUNT_TTL_SECONDS)
            count, _ = pipe.execute()
    except redis.RedisError:
        return 1
    return int(count)


def set_aside(
    task_name: str,
    task_id: str,
    args: Any,
    kwargs: Any,
    reason: str,
    deliveries: int = 1,
) -> None:
    from desk.models import DeadLetter

    DeadLetter.objects.update_or_create(
        task_id=task_id,
        defaults={
            "task_name": task_name,
            "args": list(args or []),
            "kwargs": dict(kwargs or {}),
            "reason": reason[:4000],
            "deliveries": deliveries,
            "resolved_at": None,
        },
    )
    logger.error("Task %s %s set aside: %s", task_name, task_id, reason)


class GuardedTask(Task):
    """The base of every task of the app (``Celery(task_cls=...)``)."""

    def __call__(self, *args, **kwargs):
        request = self.request
        if not request.called_directly and request.id:
            deliveries = count_delivery(request.id, request.retries or 0)
            if deliveries > MAX_DELIVERIES:
                set_aside(
                    self.name,
                    request.id,
                    args,
                    kwargs,
                    f"Delivered {deliveries} times without finishing: its worker "
                    "died each time it ran",
                    deliveries,
                )
                return None
        return super().__call__(*args, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        try:
            set_aside(self.name, task_id, args, kwargs, f"{type(exc).__name__}: {exc}")
        except Exception:
            logger.exception("Could not set task %s %s aside", self.name, task_id)
        super().on_failure(exc, task_id, args, kwargs, einfo)


def send_again(letter_id: int) -> str:
    """Send a dead letter's task again under a new id; mark the letter resolved."""
    from django.utils import timezone

    from desk.celery import app
    from desk.models import DeadLetter

    letter = DeadLetter.objects.get(pk=letter_id)
    result = app.send_task(letter.task_name, args=letter.args, kwargs=letter.kwargs)
    letter.resolved_at = timezone.now()
    letter.save(update_fields=["resolved_at"])
    return result.id
