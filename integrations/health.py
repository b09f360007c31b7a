"""How each connection's provider has been answering us: the last call that
worked, the share that failed over the last 24 hours, and whether the last
failure was the provider throttling or being briefly unavailable.

Recorded where the desk acts through a connection (store actions, carrier
polls, connection tests) into one Redis hash per connection, counted by hour,
so the connections page can say "last success 3 min ago, 1 of 140 failed,
throttled" without a table written on every call. Losing Redis loses only
this picture, never work."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from integrations.ratelimit import redis_client

logger = logging.getLogger(__name__)

HOURS = 24
KEEP_SECONDS = 8 * 24 * 3600


def _key(connection_id: int) -> str:
    prefix = os.environ.get("REDIS_KEY_PREFIX", "desk")
    return f"{prefix}:connection-health:{connection_id}"


def record(
    connection_id: int | None, *, ok: bool, message: str = "", temporary: bool = False
) -> None:
    """Count one call; a failure keeps its message and whether it may pass by itself."""
    if not connection_id:
        return
    now = time.time()
    hour = int(now // 3600)
    key = _key(connection_id)
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.hincrby(key, f"calls:{hour}", 1)
        if ok:
            pipe.hset(key, "last_ok_at", now)
        else:
            pipe.hincrby(key, f"errors:{hour}", 1)
            pipe.hset(
                key,
                mapping={
                    "last_error_at": now,
                    "last_error": message[:300],
                    "last_error_temporary": int(temporary),
                },
            )
        # Hours that have left the window are dropped as the window moves on.
        pipe.hdel(key, f"calls:{hour - HOURS - 1}", f"errors:{hour - HOURS - 1}")
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()
    except redis.RedisError:
        logger.warning("Connection health for %s not recorded: Redis unavailable", connection_id)


def forget(connection_id: int) -> None:
    """Drop what was recorded (a connection created anew under a reused id starts clean)."""
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(_key(connection_id))


@contextlib.contextmanager
def observed(connection_id: int | None) -> Iterator[None]:
    """Record the call made inside the block: an exception is a failure, and one
    with ``permanent = False`` is temporary (throttled, unavailable)."""
    try:
        yield
    except Exception as exc:
        record(
            connection_id,
            ok=False,
            message=str(exc),
            temporary=not getattr(exc, "permanent", True),
        )
        raise
    record(connection_id, ok=True)


@dataclass(frozen=True)
class Health:
    calls: int
    errors: int
    last_ok_at: datetime | None
    last_error_at: datetime | None
    last_error: str
    last_error_temporary: bool

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None

    @property
    def failing(self) -> bool:
        """The latest call failed."""
        return self.last_error_at is not None and (
            self.last_ok_at is None or self.last_error_at > self.last_ok_at
        )


def _time(value: bytes | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def read(connection_ids: list[int]) -> dict[int, Health]:
    """The last 24 hours of each connection that was used; {} when Redis is away."""
    hour = int(time.time() // 3600)
    window = range(hour - HOURS + 1, hour + 1)
    try:
        pipe = redis_client().pipeline(transaction=False)
        for connection_id in connection_ids:
            pipe.hgetall(_key(connection_id))
        rows = pipe.execute()
    except redis.RedisError:
        return {}
    health = {}
    for connection_id, row in zip(connection_ids, rows, strict=True):
        if not row:
            continue
        fields = {k.decode(): v for k, v in row.items()}
        health[connection_id] = Health(
            calls=sum(int(fields.get(f"calls:{h}", 0)) for h in window),
            errors=sum(int(fields.get(f"errors:{h}", 0)) for h in window),
            last_ok_at=_time(fields.get("last_ok_at")),
            last_error_at=_time(fields.get("last_error_at")),
            last_error=(fields.get("last_error") or b"").decode(),
            last_error_temporary=fields.get("last_error_temporary") == b"1",
        )
    return health
