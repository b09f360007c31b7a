"""What every commerce platform's client does the same around a request.

Take a turn in the shop's shared bucket (``integrations.ratelimit``) so all
workers together stay under the platform's limit; after a failure back off
exponentially, within the seconds one call may spend; and send a request
whose outcome is unknown (sent, then a timeout or a 5xx) again only when the
caller says it is safe: a read, or a write that lands the same twice.

How a platform's answers read (its status codes, its error shapes, its way
of saying "slow down") differs from one platform to the next and stays in
its own client, which runs its loop with these pieces.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from integrations.commerce import ExecutionError
from integrations.ratelimit import RateLimited, SharedBucket

QUEUE_PAD = 0.05  # seconds past our turn, so clock skew does not get us throttled

_pools: dict[str, httpx.Client] = {}


def shared_http(platform: str, read_timeout: float = 15.0) -> httpx.Client:
    # One connection pool per process and platform: keep-alive to the
    # platform across calls, and one platform's burst does not take the
    # connections another needs.
    pool = _pools.get(platform)
    if pool is None:
        pool = _pools[platform] = httpx.Client(timeout=httpx.Timeout(read_timeout, connect=5.0))
    return pool


class PacedClient:
    """One shop on one platform. ``sleep`` and ``clock`` are injectable so tests need not wait."""

    platform: ClassVar[str] = ""
    # What a failure raises: the platform's own subclass when callers tell it apart.
    error_class: ClassVar[type[ExecutionError]] = ExecutionError
    # The refusal when the shop's queue is longer than this call may wait.
    queue_message: ClassVar[str] = (
        "{platform} rate limit: queued work for this store needs {wait:.0f}s more"
    )
    # Requests per second every worker gives up while the platform asks us to
    # wait (``Retry-After`` during a backoff); None when only this call waits.
    hold_rate: ClassVar[float | None] = None
    read_timeout: ClassVar[float] = 15.0

    def __init__(
        self,
        bucket: SharedBucket,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        budget: float = 30.0,
        max_attempts: int = 5,
    ) -> None:
        self.bucket = bucket
        self.http = http or shared_http(self.platform, self.read_timeout)
        self.sleep = sleep
        self.clock = clock
        self.budget = budget  # seconds one call may spend waiting, inside the task's time limit
        self.max_attempts = max_attempts

    def _wait_for_turn(self, deadline: float, cost: float = 1) -> None:
        remaining = deadline - self.clock()
        try:
            wait = self.bucket.reserve(cost, max_wait=max(remaining, 0))
        except RateLimited as exc:
            raise self.error_class(
                self.queue_message.format(platform=self.platform, wait=exc.wait),
                permanent=False,
            ) from exc
        if wait > 0:
            # A little past our turn: arriving exactly as the points refill
            # loses the race against clock skew and gets throttled. Everyone
            # queued shifts by the same pad, so throughput is unchanged.
            self.sleep(wait + QUEUE_PAD)

    def _unreachable(
        self, exc: httpx.TransportError, attempt: int, deadline: float, *, retry_unsure: bool
    ) -> int:
        """After a transport error: back off and go again, unless the request
        may have arrived and must not be sent twice."""
        sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        if sent and not retry_unsure:
            raise self.error_class(
                f"{self.platform} did not answer: {exc}", permanent=False
            ) from exc
        return self._backoff(attempt, deadline, f"{self.platform} unreachable: {exc}")

    def _backoff(
        self, attempt: int, deadline: float, reason: str, headers: httpx.Headers | None = None
    ) -> int:
        """Sleep before the next attempt and return its number; raise a
        temporary error when attempts or the call's seconds are spent. A
        ``Retry-After`` in ``headers`` makes the wait at least that long."""
        attempt += 1
        if attempt >= self.max_attempts:
            raise self.error_class(f"{reason} (after {attempt} attempts)", permanent=False)
        delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        asked = (headers or {}).get("Retry-After")
        if asked:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(asked))
            if self.hold_rate is not None:
                # Hold every worker back, not just this one: the host is throttling the shop.
                self.bucket.give_back(-self.hold_rate * delay)
        if self.clock() + delay > deadline:
            raise self.error_class(f"{reason}; giving up for now", permanent=False)
        self.sleep(delay)
        return attempt


def retry_after(response: httpx.Response) -> float:
    """Seconds from a ``Retry-After`` header; 0 when absent or not a number."""
    with contextlib.suppress(TypeError, ValueError):
        return max(0.0, float(response.headers.get("Retry-After", "")))
    return 0.0


def header_number(value: str | None) -> float | None:
    """A numeric header's value; None when absent or not a number."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def error_text(response: httpx.Response, read: Callable[[Any], str], *, limit: int = 200) -> str:
    """The platform's own words about a failed request: ``read`` finds them in
    the decoded body; a body that is not JSON (a proxy's page) is quoted."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit].strip() or response.reason_phrase
    return read(body)
