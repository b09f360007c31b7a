"""The request loop shared by marketplaces that sign every call (TikTok Shop,
Shopee, Lazada): queue in the shop's shared bucket, send, and sort the answer
into data, "wait and try again" or a permanent error carrying the platform's
own message.

A platform's client subclasses ``SignedClient`` and fills in two things: how a
request is signed (``prepare``) and how its error model reads (``interpret``).
A 429 or a throttling error code waits as long as the platform asks
(``Retry-After``, or a ban length in the message) and never counts against
the attempts; 5xx and transport errors back off exponentially, as for every
client (``integrations.http``); a request whose outcome is unknown is only
sent again when the caller says it is safe (a read, or a write with an
idempotency key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.http import PacedClient, retry_after
from integrations.ratelimit import SharedBucket

__all__ = ["Prepared", "SignedClient", "Throttled", "Transient", "retry_after"]


@dataclass
class Prepared:
    """One signed request, exactly as it goes on the wire."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


class Throttled(Exception):
    """The platform refused for rate; ``wait`` is how long it asked for (0: unknown)."""

    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait


class Transient(Exception):
    """The platform failed in a way another attempt may not."""


class SignedClient(PacedClient):
    """One shop on one platform; pacing and backoff as every client's (``integrations.http``)."""

    queue_message = "{platform} rate limit: queued work for this shop needs {wait:.0f}s more"
    # Starting guesses for the shop's bucket, in requests; see each platform's notes.
    capacity: float = 10.0
    restore_rate: float = 10.0

    def __init__(
        self, bucket_name: str, *, bucket: SharedBucket | None = None, **pacing: Any
    ) -> None:
        super().__init__(
            bucket
            or SharedBucket(bucket_name, capacity=self.capacity, restore_rate=self.restore_rate),
            **pacing,
        )

    # --- what a platform fills in -------------------------------------------

    def prepare(self, method: str, path: str, params: dict[str, Any], body: Any) -> Prepared:
        raise NotImplementedError

    def interpret(self, response: httpx.Response, body: Any) -> Any:
        """The useful part of a successful answer; raise ``Throttled``,
        ``Transient`` or a permanent ``ExecutionError`` otherwise."""
        raise NotImplementedError

    # --- the loop -----------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        retry_unsure: bool = True,
    ) -> Any:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_turn(deadline)
            # Signed afresh each attempt: signatures carry a timestamp the
            # platform only accepts for a few minutes.
            request = self.prepare(method, path, dict(params or {}), body)
            try:
                response = self.http.request(
                    request.method,
                    request.url,
                    params=request.params,
                    headers=request.headers,
                    content=request.content,
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue
            try:
                parsed: Any = response.json()
            except ValueError:
                parsed = None
            try:
                return self.interpret(response, parsed)
            except Throttled as exc:
                # Refused before doing anything, so always safe to send again;
                # waiting for the platform's turn is not a failed attempt.
                self._wait_throttled(exc, deadline)
                continue
            except Transient as exc:
                if not retry_unsure:
                    raise ExecutionError(str(exc), permanent=False) from exc
                attempt = self._backoff(attempt, deadline, str(exc))
                continue

    def _wait_throttled(self, exc: Throttled, deadline: float) -> None:
        wait = exc.wait or 1.0
        if self.clock() + wait > deadline:
            raise ExecutionError(
                f"{exc}; the platform asked to wait {wait:.0f}s, more than this call can",
                permanent=False,
            )
        # Everyone sharing the bucket waits too: take the points the wait is worth.
        self.bucket.give_back(-wait * self.bucket.restore_rate)
        self.sleep(wait)
