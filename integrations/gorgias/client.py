"""Gorgias REST API over HTTP, and nothing else.

Authentication is HTTP Basic with the account's user email and an API key,
against ``https://{domain}.gorgias.com/api``. Gorgias limits an account with
a leaky bucket (for API keys, 40 calls that drain at 2 a second) and reports
its level on every answer in ``X-Gorgias-Account-Api-Call-Limit: used/limit``.
Every call reserves one slot in the account's shared bucket first, so the
desk's workers queue instead of being refused; a 429 anyway is retried after
its ``Retry-After``. 5xx answers and dropped connections are retried with
backoff when the request is safe to repeat; 4xx answers are permanent and
carry Gorgias's own message (its body's ``error`` attribute).
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from integrations.ratelimit import RateLimited, SharedBucket

DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# API-key integrations: 40 requests in a 20-second window.
BUCKET_CAPACITY = 40.0
WINDOW_SECONDS = 20.0
PAGE_LIMIT = 100  # the most a list endpoint returns per page

_http: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    global _http
    if _http is None:
        _http = httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
    return _http


class GorgiasError(Exception):
    """A call that did not succeed. ``permanent``: repeating it cannot help.
    ``retry_in``: seconds Gorgias asked us to wait, when it said."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int = 0,
        retry_in: float = 0,
        response: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.retry_in = retry_in
        self.response = response or {}


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"status_code": response.status_code, "text": response.text[:2000]}
    return data if isinstance(data, dict) else {"data": data}


def error_text(data: dict[str, Any]) -> str:
    """Gorgias's reason from an error body: ``error`` is a sentence, or an object
    with ``msg`` and the offending fields under ``data``."""
    error = data.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        text = str(error.get("msg") or error.get("message") or "")
        fields = error.get("data")
        if isinstance(fields, dict) and fields:
            details = "; ".join(f"{k}: {_flat(v)}" for k, v in fields.items())
            text = f"{text} ({details})" if text else details
        return text
    return str(data.get("message") or data.get("text") or "")


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return str(value)


class GorgiasClient:
    """One Gorgias account. ``sleep`` and ``clock`` are injectable so tests need not wait."""

    def __init__(
        self,
        domain: str,
        email: str,
        api_key: str,
        *,
        bucket: SharedBucket | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        budget: float = 20.0,
        max_attempts: int = 4,
    ) -> None:
        self.domain = domain
        self.base_url = f"https://{domain}.gorgias.com/api"
        self.auth = (email, api_key)
        self.bucket = bucket or SharedBucket(
            f"gorgias:{domain}",
            capacity=BUCKET_CAPACITY,
            restore_rate=BUCKET_CAPACITY / WINDOW_SECONDS,
        )
        self.http = http or _shared_http()
        self.sleep = sleep
        self.clock = clock
        self.budget = budget
        self.max_attempts = max_attempts

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> GorgiasClient:
        domain = str(credentials.get("domain", "")).strip().lower()
        domain = domain.removeprefix("https://").split(".gorgias.com")[0]
        email = str(credentials.get("email", "")).strip()
        api_key = str(credentials.get("api_key", ""))
        if not DOMAIN.match(domain):
            raise GorgiasError(f"{domain!r} is not a Gorgias account domain", permanent=True)
        if not (email and api_key):
            raise GorgiasError("The Gorgias connection has no email or API key", permanent=True)
        return cls(domain, email, api_key, **kwargs)

    # --- transport -------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        retry_unsure: bool = True,
    ) -> dict[str, Any]:
        """One call, queued behind the account's other calls; returns the JSON body.

        ``retry_unsure`` says whether a request whose outcome is unknown (a
        timeout, a 5xx) may be sent again here: true for reads and updates
        that set a value, false for creating a message, whose caller looks
        before posting again."""
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_slot(deadline)
            try:
                response = self.http.request(
                    method,
                    f"{self.base_url}/{path.lstrip('/')}",
                    params=params,
                    json=json,
                    auth=self.auth,
                    headers={"Accept": "application/json"},
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if sent and not retry_unsure:
                    raise GorgiasError(f"Gorgias did not answer: {exc}", permanent=False) from exc
                attempt = self._backoff(attempt, deadline, f"Gorgias unreachable: {exc}")
                continue
            self._observe(response.headers)
            status = response.status_code
            if status == 429:
                # Nothing was done; wait as long as Gorgias says, then queue again.
                wait = _retry_after(response.headers)
                if self.clock() + wait > deadline or attempt + 1 >= self.max_attempts:
                    raise GorgiasError(
                        "Gorgias rate limit: try again later",
                        permanent=False,
                        status=429,
                        retry_in=wait,
                        response=_body(response),
                    )
                attempt += 1
                self.sleep(wait)
                continue
            if status >= 500:
                if not retry_unsure:
                    raise GorgiasError(
                        f"Gorgias answered {status}",
                        permanent=False,
                        status=status,
                        response=_body(response),
                    )
                attempt = self._backoff(attempt, deadline, f"Gorgias answered {status}")
                continue
            data = _body(response)
            if status >= 400:
                reason = error_text(data) or response.reason_phrase
                raise GorgiasError(
                    f"Gorgias answered {status}: {reason}",
                    permanent=True,
                    status=status,
                    response=data,
                )
            return data

    def _wait_for_slot(self, deadline: float) -> None:
        try:
            wait = self.bucket.reserve(1, max_wait=max(deadline - self.clock(), 0))
        except RateLimited as exc:
            raise GorgiasError(
                f"Gorgias rate limit: queued calls for this account need {exc.wait:.0f}s more",
                permanent=False,
                retry_in=exc.wait,
            ) from exc
        if wait > 0:
            self.sleep(wait)

    def _observe(self, headers: httpx.Headers) -> None:
        """Never believe in more free calls than Gorgias says are left."""
        used, _, limit = headers.get("X-Gorgias-Account-Api-Call-Limit", "").partition("/")
        with contextlib.suppress(ValueError):
            capacity = float(limit)
            self.bucket.sync(max(capacity - float(used), 0), capacity, capacity / WINDOW_SECONDS)

    def _backoff(self, attempt: int, deadline: float, reason: str) -> int:
        attempt += 1
        if attempt >= self.max_attempts:
            raise GorgiasError(f"{reason} (after {attempt} attempts)", permanent=False)
        delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if self.clock() + delay > deadline:
            raise GorgiasError(f"{reason}; giving up for now", permanent=False)
        self.sleep(delay)
        return attempt

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``meta.next_cursor`` page by page."""
        cursor = None
        while True:
            page = self.request(
                "GET",
                path,
                params={**params, "limit": PAGE_LIMIT, **({"cursor": cursor} if cursor else {})},
            )
            yield from page.get("data") or []
            cursor = (page.get("meta") or {}).get("next_cursor")
            if not cursor:
                return

    # --- operations ------------------------------------------------------

    def account(self) -> dict[str, Any]:
        return self.request("GET", "account")

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        return self.request("GET", f"tickets/{ticket_id}")

    def ticket_messages(self, ticket_id: int) -> Iterator[dict[str, Any]]:
        return self.pages("messages", {"ticket_id": ticket_id, "order_by": "created_datetime:desc"})

    def find_message(self, ticket_id: int, external_id: str) -> dict[str, Any] | None:
        """Our earlier message on the ticket, by the ``external_id`` we gave it."""
        return next(
            (m for m in self.ticket_messages(ticket_id) if m.get("external_id") == external_id),
            None,
        )

    def create_message(self, ticket_id: int, message: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", f"tickets/{ticket_id}/messages", json=message, retry_unsure=False
        )

    def set_status(self, ticket_id: int, status: str) -> dict[str, Any]:
        # Setting the same status again changes nothing, so retrying is safe.
        return self.request("PUT", f"tickets/{ticket_id}", json={"status": status})


def _retry_after(headers: httpx.Headers) -> float:
    try:
        return max(float(headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return 5.0
