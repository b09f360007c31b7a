"""Klaviyo's REST API over HTTP, and nothing else.

A private key in ``Authorization: Klaviyo-API-Key <key>``, a pinned API
``revision`` header, JSON:API bodies. Create Event answers ``202`` with no
body. Klaviyo limits per account and endpoint (Create Event: bursts of 350 a
second, 3,500 a minute); the desk's calls reserve a slot in the account's
shared bucket first, and a ``429`` (``throttled``) is retried after its
``Retry-After``. 5xx and dropped connections are temporary; other 4xx answers
are permanent and carry Klaviyo's ``errors[].detail``.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

import httpx

from integrations.ratelimit import RateLimited, SharedBucket

BASE_URL = "https://a.klaviyo.com/api"
REVISION = "2025-01-15"
JSON_API = "application/vnd.api+json"

_http: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    global _http
    if _http is None:
        _http = httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
    return _http


class KlaviyoError(Exception):
    def __init__(
        self, message: str, *, permanent: bool, status: int = 0, retry_in: float = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status
        self.retry_in = retry_in


def error_text(response: httpx.Response) -> str:
    """``errors[].detail`` (or ``title``) of a JSON:API error document."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return response.text[:200]
    parts = [str(e.get("detail") or e.get("title") or e.get("code")) for e in errors]
    return "; ".join(p for p in parts if p) or response.reason_phrase


class KlaviyoClient:
    def __init__(
        self,
        api_key: str,
        *,
        bucket: SharedBucket | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 10.0,
    ) -> None:
        self.api_key = api_key
        # Steady rate of Create Event: 3,500 a minute, bursts up to 350.
        self.bucket = bucket or SharedBucket(
            f"klaviyo:{hashlib.sha256(api_key.encode()).hexdigest()[:16]}",
            capacity=350,
            restore_rate=3500 / 60,
        )
        self.http = http or _shared_http()
        self.sleep = sleep
        self.max_wait = max_wait

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> KlaviyoClient:
        key = str(credentials.get("api_key", "")).strip()
        if not key:
            raise KlaviyoError("The Klaviyo connection has no private API key", permanent=True)
        return cls(key, **kwargs)

    def request(self, method: str, path: str, *, json: dict | None = None) -> httpx.Response:
        try:
            wait = self.bucket.reserve(1, max_wait=self.max_wait)
        except RateLimited as exc:
            raise KlaviyoError(str(exc), permanent=False, retry_in=exc.wait) from exc
        if wait > 0:
            self.sleep(wait)
        try:
            response = self.http.request(
                method,
                f"{BASE_URL}/{path.lstrip('/')}",
                json=json,
                headers={
                    "Authorization": f"Klaviyo-API-Key {self.api_key}",
                    "revision": REVISION,
                    "Accept": JSON_API,
                    **({"Content-Type": JSON_API} if json is not None else {}),
                },
            )
        except httpx.TransportError as exc:
            raise KlaviyoError(f"Klaviyo unreachable: {exc}", permanent=False) from exc
        status = response.status_code
        if status == 429:
            retry_in = 1.0
            with contextlib.suppress(ValueError):
                retry_in = float(response.headers.get("Retry-After", "1"))
            raise KlaviyoError(
                f"Klaviyo throttled the call: {error_text(response)}",
                permanent=False,
                status=429,
                retry_in=retry_in,
            )
        if status >= 500:
            raise KlaviyoError(f"Klaviyo answered {status}", permanent=False, status=status)
        if status >= 400:
            raise KlaviyoError(
                f"Klaviyo answered {status}: {error_text(response)}", permanent=True, status=status
            )
        return response

    def create_event(
        self,
        *,
        metric: str,
        email: str,
        properties: dict[str, Any],
        unique_id: str,
        time: str,
        value: float | None = None,
    ) -> None:
        """Record that ``email`` did ``metric``; Klaviyo keeps one event per ``unique_id``,
        so sending the same moment again creates nothing new."""
        attributes: dict[str, Any] = {
            "properties": properties,
            "time": time,
            "unique_id": unique_id,
            "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
            "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
        }
        if value is not None:
            attributes["value"] = value
        self.request("POST", "events/", json={"data": {"type": "event", "attributes": attributes}})

    def account(self) -> dict[str, Any]:
        data = self.request("GET", "accounts/").json().get("data") or [{}]
        return data[0]
