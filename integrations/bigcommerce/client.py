"""BigCommerce's REST API (V2 orders, V3 payment actions and hooks) over HTTP, and nothing else.

Authentication is the store's API account token in ``X-Auth-Token``, every
path under ``/stores/{store_hash}``. BigCommerce gives a store a quota of
requests per window shared by every app, and reports it on each answer
(``X-Rate-Limit-Requests-Quota``, ``-Requests-Left``, ``-Time-Window-Ms``,
``-Time-Reset-Ms``). Each call reserves one request in the store's shared
bucket (``integrations.ratelimit``) and corrects the bucket from those
headers, so workers queue instead of running into 429. A 429 anyway waits
the ``X-Rate-Limit-Time-Reset-Ms`` BigCommerce names; 5xx and network
failures are retried with backoff; other 4xx answers are permanent and carry
BigCommerce's own message (V2 answers ``[{"status", "message"}]``, V3
``{"status", "title", "errors"}``, refunds ``{"errors": [{"error"}]}``).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.http import QUEUE_PAD, PacedClient, error_text, header_number
from integrations.ratelimit import SharedBucket

# BIGCOMMERCE_API_ENDPOINT points every store at a stand-in (a staging proxy,
# a local fake in load runs); {store_hash} is filled in.
ENDPOINT = os.environ.get(
    "BIGCOMMERCE_API_ENDPOINT", "https://api.bigcommerce.com/stores/{store_hash}"
)
STORE_HASH = re.compile(r"^[a-z0-9]{5,20}$")
V2_PAGE = 250  # the largest page V2 lists serve
# Until BigCommerce reports the store's quota: the smallest plan's, 150 per 30 s.
DEFAULT_QUOTA = 150.0
DEFAULT_WINDOW = 30.0


class NotFound(ExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class BigCommerceClient(PacedClient):
    """One store; pacing and backoff as every client's (``integrations.http``)."""

    platform = "BigCommerce"

    def __init__(
        self,
        store_hash: str,
        access_token: str,
        *,
        endpoint: str | None = None,
        bucket: SharedBucket | None = None,
        **pacing: Any,
    ) -> None:
        self.store_hash = store_hash
        self.access_token = access_token
        self.base = (endpoint or ENDPOINT.format(store_hash=store_hash)).rstrip("/")
        super().__init__(
            bucket
            or SharedBucket(
                f"bigcommerce:{store_hash}", DEFAULT_QUOTA, DEFAULT_QUOTA / DEFAULT_WINDOW
            ),
            **pacing,
        )

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> BigCommerceClient:
        store_hash = str(credentials.get("store_hash", "")).strip().lower()
        token = str(credentials.get("access_token", ""))
        if not STORE_HASH.match(store_hash):
            raise ExecutionError(f"{store_hash!r} is not a BigCommerce store hash", permanent=True)
        if not token:
            raise ExecutionError("The BigCommerce connection has no access token", permanent=True)
        return cls(store_hash, token, **kwargs)

    # --- transport -------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry_unsure: bool = True,
    ) -> Any:
        """Send one request and return its decoded body (None for 204).

        ``retry_unsure`` says whether a request whose outcome is unknown (a
        timeout, a 5xx) may be sent again: true for reads and for writes that
        land the same twice, false for creations, whose callers look for what
        a previous attempt made before creating again."""
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_turn(deadline)
            try:
                response = self.http.request(
                    method,
                    f"{self.base}{path}",
                    params=params,
                    json=json,
                    headers={
                        "X-Auth-Token": self.access_token,
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                    },
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue

            self._observe(response.headers)
            status = response.status_code
            if status == 429:
                # Not a failure of ours: the store's quota is spent until the
                # window resets, which BigCommerce tells us.
                wait = _reset_seconds(response.headers)
                self.bucket.sync(0, *self._quota(response.headers))
                if self.clock() + wait > deadline:
                    raise ExecutionError(
                        f"BigCommerce rate limit: the store's quota resets in {wait:.0f}s",
                        permanent=False,
                    )
                self.sleep(wait + QUEUE_PAD)
                continue
            if status >= 500:
                if not retry_unsure:
                    raise ExecutionError(
                        f"BigCommerce answered {status}: {error_message(response)}",
                        permanent=False,
                    )
                attempt = self._backoff(
                    attempt, deadline, f"BigCommerce answered {status}: {error_message(response)}"
                )
                continue
            if status == 401:
                raise ExecutionError(
                    "BigCommerce refused the access token (401): reconnect the store",
                    permanent=True,
                )
            if status == 403:
                raise ExecutionError(
                    f"BigCommerce refused the request (403): {error_message(response)}; "
                    "the API account lacks a scope",
                    permanent=True,
                )
            if status == 404:
                raise NotFound(f"BigCommerce: {error_message(response)}")
            if status >= 400:
                raise ExecutionError(
                    f"BigCommerce answered {status}: {error_message(response)}", permanent=True
                )
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                attempt = self._backoff(
                    attempt, deadline, "BigCommerce sent a body that is not JSON"
                )

    def _quota(self, headers: httpx.Headers) -> tuple[float, float]:
        quota = header_number(headers.get("X-Rate-Limit-Requests-Quota")) or self.bucket.capacity
        window_ms = header_number(headers.get("X-Rate-Limit-Time-Window-Ms"))
        rate = quota / (window_ms / 1000) if window_ms else self.bucket.restore_rate
        return quota, rate

    def _observe(self, headers: httpx.Headers) -> None:
        left = header_number(headers.get("X-Rate-Limit-Requests-Left"))
        if left is None:
            return
        self.bucket.sync(left, *self._quota(headers))

    # --- pagination ------------------------------------------------------

    def v2_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a V2 list: pages of ``limit`` until a short page or 204."""
        page = 1
        while True:
            batch = self.request(
                "GET", f"/v2{path}", params={**(params or {}), "page": page, "limit": V2_PAGE}
            )
            items = batch if isinstance(batch, list) else []
            yield from items
            if len(items) < V2_PAGE:
                return
            page += 1

    def v3_pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a V3 list, following ``meta.pagination`` to the last page."""
        page = 1
        while True:
            body = self.request("GET", f"/v3{path}", params={**(params or {}), "page": page}) or {}
            yield from body.get("data") or []
            pagination = (body.get("meta") or {}).get("pagination") or {}
            if page >= int(pagination.get("total_pages") or 1):
                return
            page += 1

    # --- operations ------------------------------------------------------

    def store(self) -> dict[str, Any]:
        return self.request("GET", "/v2/store") or {}

    def order(self, order_id: str | int) -> dict[str, Any] | None:
        try:
            return self.request("GET", f"/v2/orders/{int(order_id)}")
        except NotFound:
            return None
        except ValueError:
            return None  # not a number: BigCommerce order numbers are the ids

    def orders(self, **filters: Any) -> list[dict[str, Any]]:
        """One page of orders matching V2 filters (email, sort, limit, min_date_created)."""
        return self.request("GET", "/v2/orders", params=filters) or []

    def order_products(self, order_id: str | int) -> list[dict[str, Any]]:
        return list(self.v2_pages(f"/orders/{order_id}/products"))

    def order_shipments(self, order_id: str | int) -> list[dict[str, Any]]:
        return list(self.v2_pages(f"/orders/{order_id}/shipments"))

    def order_shipping_addresses(self, order_id: str | int) -> list[dict[str, Any]]:
        return list(self.v2_pages(f"/orders/{order_id}/shipping_addresses"))

    def update_order(self, order_id: str | int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/v2/orders/{order_id}", json=fields) or {}

    def update_shipping_address(
        self, order_id: str | int, address_id: str | int, fields: dict[str, Any]
    ) -> dict[str, Any]:
        return (
            self.request(
                "PUT", f"/v2/orders/{order_id}/shipping_addresses/{address_id}", json=fields
            )
            or {}
        )

    def create_order(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/v2/orders", json=fields, retry_unsure=False) or {}

    def refunds(self, order_id: str | int) -> list[dict[str, Any]]:
        return list(self.v3_pages(f"/orders/{order_id}/payment_actions/refunds"))

    def refund_quote(self, order_id: str | int, items: list[dict[str, Any]]) -> dict[str, Any]:
        body = self.request(
            "POST",
            f"/v3/orders/{order_id}/payment_actions/refund_quotes",
            json={"items": items},
        )
        return (body or {}).get("data") or {}

    def create_refund(self, order_id: str | int, refund: dict[str, Any]) -> dict[str, Any]:
        """Create a refund. BigCommerce takes no idempotency key, so this is never
        resent blind: the adapter looks for the refund before trying again."""
        body = self.request(
            "POST",
            f"/v3/orders/{order_id}/payment_actions/refunds",
            json=refund,
            retry_unsure=False,
        )
        data = (body or {}).get("data")
        if not isinstance(data, dict) or "id" not in data:
            raise ExecutionError(
                "BigCommerce created no refund and gave no reason", permanent=False
            )
        return data

    def create_hook(self, scope: str, destination: str, headers: dict[str, str]) -> dict[str, Any]:
        """Subscribe ``destination`` to ``scope``; ``headers`` ride on every delivery."""
        body = self.request(
            "POST",
            "/v3/hooks",
            json={
                "scope": scope,
                "destination": destination,
                "is_active": True,
                "headers": headers,
            },
            retry_unsure=False,
        )
        return (body or {}).get("data") or {}


def error_message(response: httpx.Response) -> str:
    """BigCommerce's own words from any of its error shapes."""
    return error_text(response, _error_words)


def _error_words(body: Any) -> str:
    if isinstance(body, list):  # V2: [{"status": 400, "message": "..."}]
        return "; ".join(str(e.get("message", e)) for e in body if isinstance(e, dict))[:500]
    if not isinstance(body, dict):
        return str(body)[:200]
    errors = body.get("errors")
    if isinstance(errors, list):  # payment actions: [{"order_id", "status", "error"}]
        found = "; ".join(str(e.get("error", e)) for e in errors if isinstance(e, dict))
        if found:
            return found[:500]
    title = str(body.get("title") or body.get("message") or "")
    if isinstance(errors, dict) and errors:  # V3: {"title", "errors": {field: reason}}
        detail = ", ".join(f"{k}: {v}" for k, v in errors.items())
        return f"{title} ({detail})"[:500] if title else detail[:500]
    return title[:500] or str(body)[:200]


def _reset_seconds(headers: httpx.Headers) -> float:
    reset_ms = header_number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
    if reset_ms is not None:
        return max(reset_ms / 1000, 0.0)
    with contextlib.suppress(TypeError):
        retry = header_number(headers.get("X-Retry-After") or headers.get("Retry-After"))
        if retry is not None:
            return max(retry, 0.0)
    return 1.0
