"""Asendia Sync API tracking over HTTP, and nothing else.

Authentication is a JSON login: ``POST /api/authenticate`` with the API
username and password returns a JWT (``id_token``) that every other call
sends as a bearer token. Asendia does not state the token's lifetime in
the answer; it is cached for every worker for 23 hours (it lasts a day)
and fetched again, once, when Asendia answers 401 anyway. ``track`` asks
``GET /api/customers/{customerId}/tracking/{trackingNumber}``; the mapping
reads its ``trackingEvents`` and the problem document Asendia sends for an
unknown number.

Credentials (the Connection's): ``username``, ``password``,
``customer_id``."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import httpx
from django.core.cache import cache

from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://www.asendia-sync.com"
TOKEN_LIFETIME = 23 * 3600


class AsendiaClient(HttpClient):
    carrier = "asendia"
    # Asendia publishes no request ceiling for the Sync API; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "API username"),
        CredentialField("password", "API password", secret=True),
        CredentialField("customer_id", "Customer id", "Your Asendia customer id"),
    )

    @property
    def _token_key(self) -> str:
        username = self.credentials.get("username", "")
        return f"carriers:asendia:token:{hashlib.sha256(username.encode()).hexdigest()[:24]}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        username = self.credentials.get("username")
        password = self.credentials.get("password")
        if not username or not password:
            raise PermanentError("Asendia connection has no username / password")
        request = self.http.build_request(
            "POST",
            f"{BASE}/api/authenticate",
            json={"username": username, "password": password},
            headers={"Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (400, 401, 403):
            raise PermanentError(
                f"Asendia refused the login ({response.status_code}): {_error_message(response)}"
            )
        try:
            token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise TransientError(
                f"Asendia login answer unreadable ({response.status_code})"
            ) from None
        cache.set(self._token_key, token, timeout=TOKEN_LIFETIME)
        return token

    def check(self) -> str:
        self.token(fresh=True)
        return "Signed in to Asendia Sync."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        customer = self.credentials.get("customer_id")
        if not customer:
            raise PermanentError("Asendia connection has no customer_id")
        path = (
            f"/api/customers/{quote(str(customer), safe='')}"
            f"/tracking/{quote(tracking_number.strip(), safe='')}"
        )
        response = self._get(path, self.token())
        if response.status_code == 401:
            # Revoked or expired before our cache thought so: one fresh token.
            response = self._get(path, self.token(fresh=True))
        if response.status_code in (401, 403):
            raise PermanentError(f"Asendia rejects our token: {_error_message(response)}")
        return self.parse(response)

    def _get(self, path: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            BASE + path,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return self.send(request)


def _error_message(response: httpx.Response) -> str:
    # Errors are problem documents: {"title", "status", "detail", "message"}.
    try:
        body = response.json()
        return str(body.get("detail") or body.get("title") or body.get("message"))
    except (ValueError, AttributeError):
        return response.reason_phrase


CLIENT = AsendiaClient
