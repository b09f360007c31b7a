"""AfterShip Returns API (``https://api.aftership.com/returns/<version>``) over HTTP, and nothing else.

Authentication is the organization's API key in the ``as-api-key`` header.
Every answer is an envelope, ``{"meta": {"code", "type", "message",
"errors": [{"path", "info"}]}, "data": ...}``; on failure the meta's message
and error details are what the specialist sees. AfterShip allows an
organization 10 requests a second and answers 429 with ``retry-after``
beyond that; Create Return also answers 429 while another return for the
same order is being made. Every call reserves a slot in the organization's
shared bucket (``integrations.ratelimit``) so all workers together keep the
pace, and a 429 waits what AfterShip asks. 5xx and network failures are
retried with backoff, except for a creation whose fate is unknown: callers
look for it before trying again. Lists are paged with ``page``/``limit``
(at most 50) until ``pagination.has_next_page`` is false.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.http import PacedClient
from integrations.ratelimit import SharedBucket

API_VERSION = "2026-07"
BASE = f"https://api.aftership.com/returns/{API_VERSION}"
PAGE_LIMIT = 50
# AfterShip's documented ceiling: 10 requests a second per organization.
CAPACITY = 10.0
RATE = 10.0


class NotFound(ExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def error_message(response: httpx.Response) -> str:
    """AfterShip's own words: the meta message and each ``path: info`` detail."""
    try:
        meta = (response.json() or {}).get("meta") or {}
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    message = str(meta.get("message") or meta.get("type") or response.reason_phrase)
    details = [
        f"{e.get('path')}: {e.get('info')}" if e.get("path") else str(e.get("info"))
        for e in meta.get("errors") or []
        if isinstance(e, dict) and e.get("info")
    ]
    return f"{message} ({'; '.join(details)})" if details else message


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


class AfterShipReturnsClient(PacedClient):
    """One AfterShip organization; pacing and backoff from ``integrations.http``."""

    platform = "AfterShip"
    queue_message = "AfterShip pace: queued work needs {wait:.0f}s more"
    read_timeout = 20.0

    def __init__(
        self, api_key: str, *, bucket_name: str, bucket: SharedBucket | None = None, **kwargs: Any
    ) -> None:
        super().__init__(
            bucket or SharedBucket(f"aftership-returns:{bucket_name}", CAPACITY, RATE), **kwargs
        )
        self.headers = {"as-api-key": api_key, "Accept": "application/json"}

    @classmethod
    def for_credentials(
        cls, credentials: dict[str, Any], *, bucket_name: str, **kwargs: Any
    ) -> AfterShipReturnsClient:
        key = str(credentials.get("api_key") or "").strip()
        if not key:
            raise ExecutionError("The AfterShip Returns connection has no API key", permanent=True)
        return cls(key, bucket_name=bucket_name, **kwargs)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry_unsure: bool = True,
    ) -> dict[str, Any]:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_turn(deadline)
            try:
                response = self.http.request(
                    method, f"{BASE}{path}", params=params, json=json, headers=self.headers
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue
            status = response.status_code
            if status == 429:
                retry_after = _seconds(response.headers.get("retry-after")) or 1.0
                if self.clock() + retry_after > deadline:
                    raise ExecutionError(
                        f"AfterShip is throttling us ({error_message(response)}); "
                        f"retry in {retry_after:.0f}s",
                        permanent=False,
                    )
                self.sleep(retry_after)
                continue
            if status >= 500:
                reason = f"AfterShip answered {status}: {error_message(response)}"
                if not retry_unsure:
                    raise ExecutionError(reason, permanent=False)
                attempt = self._backoff(attempt, deadline, reason)
                continue
            if status in (401, 403):
                raise ExecutionError(
                    f"AfterShip refused the API key ({status}): {error_message(response)}",
                    permanent=True,
                )
            if status == 404:
                raise NotFound(f"AfterShip: {error_message(response)}")
            if status >= 400:
                raise ExecutionError(
                    f"AfterShip answered {status}: {error_message(response)}", permanent=True
                )
            try:
                return response.json() or {}
            except ValueError as exc:
                raise ExecutionError(
                    "AfterShip sent a body that is not JSON", permanent=False
                ) from exc

    # --- operations ------------------------------------------------------

    def returns(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every return matching the filters (``order_name``, ``approval_status``…), page by page."""
        page = 1
        while True:
            envelope = self.send(
                "GET", "/returns", params={**filters, "page": page, "limit": PAGE_LIMIT}
            )
            data = envelope.get("data") or {}
            yield from data.get("returns") or []
            if not (data.get("pagination") or {}).get("has_next_page"):
                return
            page += 1

    def first_page_of_returns(self) -> dict[str, Any]:
        """One return at most: the cheapest call that proves the key works."""
        return self.send("GET", "/returns", params={"page": 1, "limit": 1}).get("data") or {}

    def return_by_id(self, return_id: str) -> dict[str, Any]:
        return self.send("GET", f"/returns/{return_id}").get("data") or {}

    def create_return(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create Return. AfterShip takes no idempotency key, so an unsure
        attempt is not repeated here: the adapter looks for it first."""
        return self.send("POST", "/returns", json=body, retry_unsure=False).get("data") or {}
