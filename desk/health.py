"""GET /healthz: database, Redis and Celery worker status for load balancers and people."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}


def _check_redis() -> dict:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}


def _check_workers() -> dict:
    from desk.celery import heartbeat_key

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1)
        prefix = heartbeat_key("")
        names = sorted(
            key.decode()[len(prefix) :] for key in client.scan_iter(f"{prefix}*", count=100)
        )
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": bool(names), "workers": names}


def _dead_letters() -> int:
    """Tasks set aside and not yet seen to: work that needs a person."""
    from desk.models import DeadLetter

    return DeadLetter.objects.filter(resolved_at__isnull=True).count()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    checks = {"database": _check_database(), "redis": _check_redis()}
    # Without Redis a worker ping would only time out; say so instead of waiting.
    checks["worker"] = (
        _check_workers() if checks["redis"]["ok"] else {"ok": False, "error": "redis down"}
    )
    ok = all(c["ok"] for c in checks.values())
    body = {
        "status": "ok" if ok else "degraded",
        **checks,
        "dead_letters": _dead_letters() if checks["database"]["ok"] else None,
        "ms": round((time.monotonic() - started) * 1000),
    }
    # Without a worker the web still serves (work queues up): 200, "degraded".
    # Without the database or Redis it cannot: 503 so a load balancer drains it.
    serving = checks["database"]["ok"] and checks["redis"]["ok"]
    return JsonResponse(body, status=200 if serving else 503)
