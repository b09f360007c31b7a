"""WooCommerce REST API v3 (``/wp-json/wc/v3``) over HTTP, and nothing else.

Authentication is the store's consumer key and secret as HTTP Basic, which
WooCommerce accepts only over HTTPS (so the store URL must be https).
Lists are paged with ``page``/``per_page`` (at most 100) and say how many
pages there are in ``X-WP-TotalPages``. Errors are WordPress REST errors,
``{"code", "message", "data": {"status"}}``; the message is kept. WooCommerce
itself has no REST rate limit, but the host in front of it may answer 429
with ``Retry-After``: every call reserves a slot in the store's shared
bucket (``integrations.ratelimit``) so workers stay under a modest pace, and
a 429 waits what the host asks. 5xx and network failures are retried with
backoff, except for creations, which callers look up before trying again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations.commerce import ExecutionError
from integrations.ratelimit import RateLimited, SharedBucket

PER_PAGE = 100
QUEUE_PAD = 0.05
# Our own pace for a store: WooCommerce runs on the merchant's host.
CAPACITY = 10.0
RATE = 5.0  # requests per second


class NotFound(ExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


_http: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    global _http
    if _http is None:
        _http = httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0))
    return _http


class WooCommerceClient:
    """One store. ``sleep`` and ``clock`` are injectable so tests need not wait."""

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        bucket: SharedBucket | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        budget: float = 30.0,
        max_attempts: int = 5,
    ) -> None:
        self.base = store_url.rstrip("/") + "/wp-json/wc/v3"
        self.auth = (consumer_key, consumer_secret)
        host = urlsplit(store_url).netloc.lower()
        self.bucket = bucket or SharedBucket(f"woocommerce:{host}", CAPACITY, RATE)
        self.http = http or _shared_http()
        self.sleep = sleep
        self.clock = clock
        self.budget = budget
        self.max_attempts = max_attempts

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> WooCommerceClient:
        url = str(credentials.get("store_url", "")).strip()
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:
            raise ExecutionError(
                f"{url!r} is not an https store address (keys are only sent over HTTPS)",
                permanent=True,
            )
        key, secret = credentials.get("consumer_key", ""), credentials.get("consumer_secret", "")
        if not (key and secret):
            raise ExecutionError("The WooCommerce connection has no API keys", permanent=True)
        return cls(url, str(key), str(secret), **kwargs)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry_unsure: bool = True,
    ) -> httpx.Response:
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            try:
                wait = self.bucket.reserve(1, max_wait=max(deadline - self.clock(), 0))
            except RateLimited as exc:
                raise ExecutionError(
                    f"WooCommerce pace: queued work for this store needs {exc.wait:.0f}s more",
                    permanent=False,
                ) from exc
            if wait > 0:
                self.sleep(wait + QUEUE_PAD)
            try:
                response = self.http.request(
                    method, f"{self.base}{path}", params=params, json=json, auth=self.auth
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if sent and not retry_unsure:
                    raise ExecutionError(
                        f"WooCommerce did not answer: {exc}", permanent=False
                    ) from exc
                attempt = self._backoff(attempt, deadline, f"WooCommerce unreachable: {exc}")
                continue
            status = response.status_code
            if status == 429:
                retry_after = _seconds(response.headers.get("Retry-After")) or 1.0
                if self.clock() + retry_after > deadline:
                    raise ExecutionError(
                        f"The store is throttling us; retry in {retry_after:.0f}s", permanent=False
                    )
                self.sleep(retry_after)
                continue
            if status >= 500:
                reason = f"WooCommerce answered {status}: {error_message(response)}"
                if not retry_unsure:
                    raise ExecutionError(reason, permanent=False)
                attempt = self._backoff(attempt, deadline, reason)
                continue
            if status in (401, 403):
                raise ExecutionError(
                    f"WooCommerce refused the API keys ({status}): {error_message(response)}",
                    permanent=True,
                )
            if status == 404:
                raise NotFound(f"WooCommerce: {error_message(response)}")
            if status >= 400:
                raise ExecutionError(
                    f"WooCommerce answered {status}: {error_message(response)}", permanent=True
                )
            return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            # A plugin printing a notice before the JSON breaks the body.
            raise ExecutionError(
                "WooCommerce sent a body that is not JSON", permanent=False
            ) from exc

    def _backoff(self, attempt: int, deadline: float, reason: str) -> int:
        attempt += 1
        if attempt >= self.max_attempts:
            raise ExecutionError(f"{reason} (after {attempt} attempts)", permanent=False)
        delay = min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if self.clock() + delay > deadline:
            raise ExecutionError(f"{reason}; giving up for now", permanent=False)
        self.sleep(delay)
        return attempt

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a list, page by page up to ``X-WP-TotalPages``."""
        page = 1
        while True:
            response = self.send(
                "GET", path, params={**(params or {}), "page": page, "per_page": PER_PAGE}
            )
            yield from response.json() or []
            total = _seconds(response.headers.get("X-WP-TotalPages")) or 1
            if page >= total:
                return
            page += 1

    # --- operations ------------------------------------------------------

    def system_status(self) -> dict[str, Any]:
        return self.request("GET", "/system_status") or {}

    def order(self, order_id: str | int) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/orders/{int(order_id)}")
        except (NotFound, ValueError):
            return None

    def orders(self, **filters: Any) -> list[dict[str, Any]]:
        return self.request("GET", "/orders", params=filters) or []

    def update_order(self, order_id: str | int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/orders/{order_id}", json=fields) or {}

    def create_order(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/orders", json=fields, retry_unsure=False) or {}

    def refunds(self, order_id: str | int) -> list[dict[str, Any]]:
        return list(self.pages(f"/orders/{order_id}/refunds"))

    def create_refund(self, order_id: str | int, refund: dict[str, Any]) -> dict[str, Any]:
        """WooCommerce takes no idempotency key: never resent blind."""
        return (
            self.request("POST", f"/orders/{order_id}/refunds", json=refund, retry_unsure=False)
            or {}
        )


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        code = body.get("code")
        return f"{body['message']} ({code})" if code else str(body["message"])
    return str(body)[:200]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
