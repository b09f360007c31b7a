"""Magento 2 / Adobe Commerce REST API over HTTP, and nothing else.

Authentication is an integration's access token, sent one of two ways:
``Authorization: Bearer <token>`` (stores that allow integration tokens as
bearer tokens), or OAuth 1.0a, each request signed with the integration's
consumer key and secret and the access token and its secret (RFC 5849,
HMAC-SHA1, the method Magento's documentation names). Lists are searched with
``searchCriteria`` query parameters and paged with ``pageSize`` /
``currentPage``; the answer carries ``items`` and ``total_count``.

Magento itself limits REST calls only at checkout; what throttles an
integration is the merchant's host (Fastly on Adobe Commerce Cloud, a WAF),
answering 429 or 503, sometimes with ``Retry-After``. Every call first takes
a slot in the store's shared bucket (``integrations.ratelimit``) so that all
workers together stay under a steady rate, and a 429 waits for the host's
``Retry-After`` before the next try. 5xx answers and timeouts are retried
with backoff; a 4xx is permanent and carries Magento's own message, with its
``%1`` / ``%name`` placeholders filled from ``parameters``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from integrations.commerce import ExecutionError
from integrations.http import QUEUE_PAD as QUEUE_PAD  # re-exported: the pace tests read it here
from integrations.http import PacedClient, error_text
from integrations.ratelimit import SharedBucket

# A steady pace no merchant's host has objected to; a 429 slows us further.
BUCKET_CAPACITY = 10.0
BUCKET_RATE = 4.0  # calls per second, per store, across all workers
PAGE_SIZE = 50
MAX_PAGES = 20  # a search past 1,000 rows is a question to ask differently


class MagentoError(ExecutionError):
    """The store refused or failed; ``status`` is the HTTP status when it answered."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status


def error_message(body: Any) -> str:
    """Magento's ``{"message": "...%1...", "parameters": [...]}`` as one sentence."""
    if not isinstance(body, dict):
        return str(body)[:300]
    message = str(body.get("message") or "")
    parameters = body.get("parameters")
    if isinstance(parameters, list):
        # Highest index first, so %1 does not eat the start of %10.
        for index in range(len(parameters), 0, -1):
            message = message.replace(f"%{index}", str(parameters[index - 1]))
    elif isinstance(parameters, dict):
        for name, value in parameters.items():
            message = message.replace(f"%{name}", str(value))
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        message += " (" + "; ".join(error_message(e) for e in errors if isinstance(e, dict)) + ")"
    return message or "no message"


# --- OAuth 1.0a --------------------------------------------------------------


def _pct(value: str) -> str:
    # RFC 5849 3.6: unreserved characters stay, everything else is %XX.
    return quote(str(value), safe="-._~")


def oauth_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1: method, base URI and the sorted, encoded parameters."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = (
        host
        if port is None or (scheme, port) in {("http", 80), ("https", 443)}
        else f"{host}:{port}"
    )
    base_uri = urlunsplit((scheme, netloc, parts.path or "/", "", ""))
    pairs = sorted((_pct(k), _pct(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), _pct(base_uri), _pct(normalized)))


def oauth_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}".encode()
    digest = hmac.new(key, base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def oauth_header(
    method: str,
    url: str,
    query: Iterable[tuple[str, str]],
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str,
    token_secret: str,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The ``Authorization: OAuth ...`` header for one request. A JSON body is
    not signed (only form-encoded bodies take part in the base string)."""
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    base = oauth_base_string(method, url, [*query, *oauth.items()])
    oauth["oauth_signature"] = oauth_signature(base, consumer_secret, token_secret)
    return "OAuth " + ", ".join(f'{k}="{_pct(v)}"' for k, v in oauth.items())


# --- search criteria -----------------------------------------------------------


def search_params(
    filters: Iterable[tuple[str, Any, str]] = (),
    *,
    sort: tuple[str, str] | None = None,
    page_size: int = PAGE_SIZE,
    page: int = 1,
) -> list[tuple[str, str]]:
    """``searchCriteria`` query parameters. Each filter is its own group, so
    the filters are ANDed (filters inside one group would be ORed)."""
    params: list[tuple[str, str]] = []
    for group, (field, value, condition) in enumerate(filters):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        params += [
            (f"{prefix}[field]", field),
            (f"{prefix}[value]", str(value)),
            (f"{prefix}[condition_type]", condition),
        ]
    if sort is not None:
        params += [
            ("searchCriteria[sortOrders][0][field]", sort[0]),
            ("searchCriteria[sortOrders][0][direction]", sort[1]),
        ]
    params += [
        ("searchCriteria[pageSize]", str(page_size)),
        ("searchCriteria[currentPage]", str(page)),
    ]
    return params


class MagentoClient(PacedClient):
    """One store; pacing and backoff as every client's (``integrations.http``)."""

    platform = "Magento"
    error_class = MagentoError
    # A 429 or 503 with Retry-After holds back every worker on the store.
    hold_rate = BUCKET_RATE
    read_timeout = 20.0

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        store_code: str = "",
        consumer_key: str = "",
        consumer_secret: str = "",
        access_token_secret: str = "",
        bucket: SharedBucket | None = None,
        **pacing: Any,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.store_code = store_code
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token_secret = access_token_secret
        host = urlsplit(self.base_url).hostname or self.base_url
        super().__init__(
            bucket
            or SharedBucket(f"magento:{host}", capacity=BUCKET_CAPACITY, restore_rate=BUCKET_RATE),
            **pacing,
        )

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> MagentoClient:
        base_url = str(credentials.get("base_url", "")).strip()
        token = str(credentials.get("access_token", ""))
        if not re.match(r"^https?://[^/\s]+", base_url):
            raise ExecutionError(f"{base_url!r} is not the store's base URL", permanent=True)
        if not token:
            raise ExecutionError("The Magento connection has no access token", permanent=True)
        return cls(
            base_url,
            token,
            store_code=str(credentials.get("store_code", "")).strip(),
            consumer_key=str(credentials.get("consumer_key", "")),
            consumer_secret=str(credentials.get("consumer_secret", "")),
            access_token_secret=str(credentials.get("access_token_secret", "")),
            **kwargs,
        )

    @property
    def signs_requests(self) -> bool:
        return bool(self.consumer_key and self.consumer_secret and self.access_token_secret)

    def url(self, path: str) -> str:
        store = f"/{self.store_code}" if self.store_code else ""
        return f"{self.base_url}/rest{store}/V1/{path.lstrip('/')}"

    def _authorization(self, method: str, url: str, params: list[tuple[str, str]]) -> str:
        if not self.signs_requests:
            return f"Bearer {self.access_token}"
        return oauth_header(
            method,
            url,
            params,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            token=self.access_token,
            token_secret=self.access_token_secret,
        )

    # --- transport -------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        json: Any = None,
        retry_unsure: bool = True,
    ) -> Any:
        """Send one call and return its decoded JSON.

        ``retry_unsure`` says whether a request whose outcome is unknown (a
        timeout after sending, a 5xx) may be sent again: true for reads and
        for writes that change nothing the second time; false for creating
        credit memos and returns, whose callers look for what a previous
        attempt made before trying again."""
        url = self.url(path)
        params = params or []
        deadline = self.clock() + self.budget
        attempt = 0
        while True:
            self._wait_for_turn(deadline)
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={
                        "Authorization": self._authorization(method, url, params),
                        "Accept": "application/json",
                    },
                )
            except httpx.TransportError as exc:
                attempt = self._unreachable(exc, attempt, deadline, retry_unsure=retry_unsure)
                continue

            status = response.status_code
            if status == 429 or status >= 500:
                if status >= 500 and status != 503 and not retry_unsure:
                    raise MagentoError(
                        f"Magento answered {status}: {_message(response)}",
                        permanent=False,
                        status=status,
                    )
                attempt = self._backoff(
                    attempt, deadline, f"Magento answered {status}", response.headers
                )
                continue
            if status == 401:
                raise MagentoError(
                    f"Magento refused the integration's credentials: {_message(response)}",
                    permanent=True,
                    status=status,
                )
            if status >= 400:
                raise MagentoError(
                    f"Magento answered {status}: {_message(response)}",
                    permanent=True,
                    status=status,
                )
            try:
                return response.json()
            except ValueError:
                attempt = self._backoff(attempt, deadline, "Magento sent a body that is not JSON")

    def search(
        self,
        path: str,
        filters: Iterable[tuple[str, Any, str]] = (),
        *,
        sort: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every item matching ``filters`` (up to ``limit``), page by page."""
        filters = list(filters)
        page_size = min(limit or PAGE_SIZE, PAGE_SIZE)
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = self.request(
                "GET",
                path,
                params=search_params(filters, sort=sort, page_size=page_size, page=page),
            )
            batch = (body or {}).get("items") or []
            items.extend(batch)
            total = int((body or {}).get("total_count") or 0)
            # Magento answers a page past the end with the last page again,
            # so stop on the count, never on an empty page alone.
            if not batch or len(items) >= total or (limit and len(items) >= limit):
                break
        return items[:limit] if limit else items

    # --- operations ------------------------------------------------------

    def orders_by_increment_id(self, number: str) -> list[dict[str, Any]]:
        return self.search("orders", [("increment_id", number, "eq")], limit=1)

    def orders_by_email(self, email: str, *, limit: int = 5) -> list[dict[str, Any]]:
        return self.search(
            "orders", [("customer_email", email, "eq")], sort=("created_at", "DESC"), limit=limit
        )

    def orders_updated_since(self, since: str, *, limit: int = 200) -> list[dict[str, Any]]:
        return self.search(
            "orders", [("updated_at", since, "gteq")], sort=("updated_at", "ASC"), limit=limit
        )

    def order(self, order_id: str | int) -> dict[str, Any]:
        return self.request("GET", f"orders/{order_id}")

    def shipments(self, order_id: str | int) -> list[dict[str, Any]]:
        return self.search("shipments", [("order_id", order_id, "eq")])

    def invoices(self, order_id: str | int) -> list[dict[str, Any]]:
        return self.search("invoices", [("order_id", order_id, "eq")])

    def creditmemos(self, order_id: str | int) -> list[dict[str, Any]]:
        return self.search("creditmemos", [("order_id", order_id, "eq")])

    def refund_order(self, order_id: str | int, body: dict[str, Any]) -> int:
        """Offline refund: a credit memo on the order, no money moved by a gateway."""
        return int(self.request("POST", f"order/{order_id}/refund", json=body, retry_unsure=False))

    def refund_invoice(self, invoice_id: str | int, body: dict[str, Any]) -> int:
        """Online refund: a credit memo on the invoice, the gateway pays it back."""
        return int(
            self.request("POST", f"invoice/{invoice_id}/refund", json=body, retry_unsure=False)
        )

    def cancel(self, order_id: str | int) -> bool:
        # Cancelling a cancelled order changes nothing, so a retry is safe.
        return bool(self.request("POST", f"orders/{order_id}/cancel"))

    def save_order_address(self, order_id: str | int, address: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"orders/{order_id}", json={"entity": address})

    def returns(self, order_id: str | int) -> list[dict[str, Any]]:
        return self.search("returns", [("order_id", order_id, "eq")])

    def return_attribute_options(self, attribute_code: str) -> list[dict[str, Any]]:
        body = self.request("GET", f"returnsAttributeMetadata/{attribute_code}")
        return (body or {}).get("options") or []

    def create_return(self, rma: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "returns", json={"rmaDataObject": rma}, retry_unsure=False)


def _message(response: httpx.Response) -> str:
    return error_text(response, error_message, limit=300)
