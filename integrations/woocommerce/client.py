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

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations.commerce import ExecutionError
from integrations.http import PacedClient, error_text, header_number
from integrations.ratelimit import SharedBucket

PER_PAGE = 100
# Our own pace for a store: WooCommerce runs on the merchant's host.
CAPACITY = 10.0
RATE = 5.0  # requests per second


class NotFound(ExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class WooCommerceClient(PacedClient):
    """One store; pacing and backoff as every client's (``integrations.http``)."""

    platform = "WooCommerce"
    queue_message = "{platform} pace: queued work for this store needs {wait:.0f}s more"
    read_timeout = 20.0

    def __init__(
        self,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        bucket: SharedBucket | None = None,
        **pacing: Any,
    ) -> None:
        self.base = store_url.rstrip("/") + "/wp-json/wc/v3"
        self.auth = (consumer_key, consumer_secret)
        host = urlsplit(store_url).netloc.lower()
        super().__init__(bucket or SharedBucket(f"woocommerce:{host}", CAPACITY, RATE), **pacing)

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
            self._wait_for_turn(deadline)
            try:
                response = self.http.request(
                    method, f"{self.base}{path}", params=params, json=json, auth=self.auth
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue
            status = response.status_code
            if status == 429:
                retry_after = header_number(response.headers.get("Retry-After")) or 1.0
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

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a list, page by page up to ``X-WP-TotalPages``."""
        page = 1
        while True:
            response = self.send(
                "GET", path, params={**(params or {}), "page": page, "per_page": PER_PAGE}
            )
            yield from response.json() or []
            total = header_number(response.headers.get("X-WP-TotalPages")) or 1
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
    return error_text(response, _error_words)


def _error_words(body: Any) -> str:
    if isinstance(body, dict) and body.get("message"):
        code = body.get("code")
        return f"{body['message']} ({code})" if code else str(body["message"])
    return str(body)[:200]
