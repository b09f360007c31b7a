"""What people see while PostgreSQL or Redis is unreachable.

Nothing here hides a fault: the database or the broker being away is a
fact worth saying plainly. A request that fails because of it is answered
503 with ``Retry-After`` (a page that retries by itself, or JSON for the
API) instead of a bare server error, and while Redis alone is away the
pages that still work carry a banner saying live updates and background
work are paused. Work already accepted is safe either way: contacts,
decisions and webhook events are rows in PostgreSQL, queued tasks are
re-sent by beat once the broker is back.
"""

from __future__ import annotations

import sys
import time

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error

RETRY_AFTER_SECONDS = 10

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{retry}">
<title>The desk is reconnecting</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}}
.banner{{background:#fff4d6;border:1px solid #e0b84c;padding:1rem;border-radius:6px}}</style>
</head><body><div class="banner" role="alert">
<h1>The desk is reconnecting to its {what}</h1>
<p>Nothing you saved is lost. This page tries again by itself every {retry} seconds.</p>
</div></body></html>"""


def _unreachable(exc: BaseException | None) -> str | None:
    """'database' or 'queue' when ``exc`` (or what caused it) means a service is away."""
    import redis

    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError) or (
            isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
        ):
            return "database"
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            return "queue"
        exc = exc.__cause__ or exc.__context__
    return None


def outage_response(request: HttpRequest, what: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "error": f"The desk cannot reach its {what} right now; nothing was saved. "
                "Send it again shortly, with the same Idempotency-Key.",
            },
            status=503,
        )
    else:
        response = HttpResponse(_PAGE.format(what=what, retry=RETRY_AFTER_SECONDS), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handler500(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Django's handler for unhandled errors: a 503 that says why when a
    service is away, the plain server-error page otherwise."""
    what = _unreachable(sys.exc_info()[1])
    if what is not None:
        return outage_response(request, what)
    return server_error(request, *args, **kwargs)


_redis_checked_at = 0.0
_redis_up = True


def queue_is_up() -> bool:
    """Whether Redis answers, asked at most every few seconds per process."""
    global _redis_checked_at, _redis_up
    now = time.monotonic()
    if now - _redis_checked_at > 5:
        import redis
        from django.conf import settings

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).ping()
            _redis_up = True
        except redis.RedisError:
            _redis_up = False
        _redis_checked_at = now
    return _redis_up


def service_status(request: HttpRequest) -> dict:
    """Template context: a banner while the queue is away (the database being
    away never gets this far; ``handler500`` answers for it)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    if queue_is_up():
        return {}
    return {
        "service_banner": "Live updates and background work are paused: the desk cannot "
        "reach its queue. What you save is kept and runs when it is back."
    }
