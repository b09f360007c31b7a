"""Loop Returns API (``https://api.loopreturns.com/api/v1``) over HTTP, and nothing else.

Authentication is the merchant's API key in ``X-Authorization`` (a key with
the Returns scope). Loop allows 300 requests a minute per key and answers
429 beyond that without saying how long to wait: every call reserves a slot
in the key's shared bucket (``integrations.ratelimit``) so all workers
together stay under the limit, and a 429 pauses (``Retry-After`` if Loop
sends one) before trying again. 5xx and network failures are retried with
backoff; other errors are permanent and carry Loop's message. The Detailed
Returns List pages with ``paginate=true`` and follows ``nextPageUrl``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.http import PacedClient
from integrations.ratelimit import SharedBucket

BASE = "https://api.loopreturns.com/api/v1"
PAGE_SIZE = 100
# 300 requests a minute per API key.
CAPACITY = 300.0
RATE = 5.0
THROTTLE_PAUSE = 2.0  # Loop asks to "pause briefly" and names no wait


class NotFound(ExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("message", "error", "errors"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def loop_time(value: datetime) -> str:
    """Loop's list filters take ``YYYY-MM-DD HH:MM:SS``."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


class LoopClient(PacedClient):
    """One merchant's API key; pacing and backoff from ``integrations.http``."""

    platform = "Loop"
    queue_message = "Loop pace: queued work needs {wait:.0f}s more"
    read_timeout = 20.0

    def __init__(
        self, api_key: str, *, bucket_name: str, bucket: SharedBucket | None = None, **kwargs: Any
    ) -> None:
        super().__init__(bucket or SharedBucket(f"loop:{bucket_name}", CAPACITY, RATE), **kwargs)
        self.headers = {"X-Authorization": api_key, "Accept": "application/json"}

    @classmethod
    def for_credentials(
        cls, credentials: dict[str, Any], *, bucket_name: str, **kwargs: Any
    ) -> LoopClient:
        key = str(credentials.get("api_key") or "").strip()
        if not key:
            raise ExecutionError("The Loop connection has no API key", permanent=True)
        return cls(key, bucket_name=bucket_name, **kwargs)

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_turn(deadline)
            try:
                response = self.http.get(url, params=params, headers=self.headers)
            except httpx.TransportError as exc:
                # Only reads: always safe to send again.
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=True)
                continue
            status = response.status_code
            if status == 429:
                pause = _seconds(response.headers.get("Retry-After")) or THROTTLE_PAUSE
                if self.clock() + pause > deadline:
                    raise ExecutionError(
                        f"Loop is throttling us; retry in {pause:.0f}s", permanent=False
                    )
                self.sleep(pause)
                continue
            if status >= 500:
                attempt = self._backoff(
                    attempt, deadline, f"Loop answered {status}: {error_message(response)}"
                )
                continue
            if status in (401, 403):
                raise ExecutionError(
                    f"Loop refused the API key ({status}): {error_message(response)}",
                    permanent=True,
                )
            if status == 404:
                raise NotFound(f"Loop: {error_message(response)}")
            if status >= 400:
                raise ExecutionError(
                    f"Loop answered {status}: {error_message(response)}", permanent=True
                )
            try:
                return response.json()
            except ValueError as exc:
                raise ExecutionError("Loop sent a body that is not JSON", permanent=False) from exc

    # --- operations ------------------------------------------------------

    def returns(
        self,
        since: datetime,
        until: datetime,
        *,
        filter_on: str = "updated_at",
        states: str = "open,closed,cancelled,expired,review",
        page_size: int = PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every return created or updated in the window (Loop allows 120 days at most)."""
        body = self.get(
            f"{BASE}/warehouse/return/list",
            {
                "paginate": "true",
                "pageSize": page_size,
                "from": loop_time(since),
                "to": loop_time(until),
                "filter": filter_on,
                "state": states,
            },
        )
        while True:
            yield from (body or {}).get("returns") or []
            following = (body or {}).get("nextPageUrl")
            if not following:
                return
            # The link carries the cursor and every filter.
            body = self.get(following)

    def return_details(self, return_id: str) -> dict[str, Any]:
        return self.get(f"{BASE}/warehouse/return/details", {"return_id": return_id}) or {}
