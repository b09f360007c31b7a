"""Hermes Germany HSI tracking API over HTTP, and nothing else.

The mapping reads the HSI ``shipmentinfo`` document, so this is Hermes
Germany's Shipping Interface. Authentication is OAuth 2.0 with the
resource-owner password grant on Hermes' authorization facade (the API
user's name and password plus the app's client id and secret); the bearer
token is cached for every worker until a minute before it expires and
fetched again, once, when HSI answers 401 anyway. ``track`` asks
``GET /shipmentinfo?shipmentID=...``.

Credentials (the Connection's): ``username``, ``password``, ``client_id``,
``client_secret``, optional ``sandbox`` (true: Hermes' integration
environment)."""

from __future__ import annotations

import hashlib

import httpx
from django.core.cache import cache

from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

API = {False: "https://de-api.hermesworld.com/services/hsi",
       True: "https://de-api-int.hermesworld.com/services/hsi"}  # fmt: skip
TOKEN = {
    False: "https://authme.myhermes.de/authorization-facade/oauth2/access_token",
    True: "https://authme-int.myhermes.de/authorization-facade/oauth2/access_token",
}


class HermesClient(HttpClient):
    carrier = "hermes"
    # Hermes publishes no per-second ceiling for HSI; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "API user"),
        CredentialField("password", "API password", secret=True),
        CredentialField("client_id", "Client id"),
        CredentialField("client_secret", "Client secret", secret=True),
    )

    @property
    def sandbox(self) -> bool:
        return bool(self.credentials.get("sandbox"))

    @property
    def _token_key(self) -> str:
        who = f"{self.sandbox}|{self.credentials.get('client_id', '')}|{self.credentials.get('username', '')}"
        return f"carriers:hermes:token:{hashlib.sha256(who.encode()).hexdigest()[:24]}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        names = ("username", "password", "client_id", "client_secret")
        if not all(self.credentials.get(name) for name in names):
            raise PermanentError("Hermes connection needs username, password, client id and secret")
        request = self.http.build_request(
            "POST",
            TOKEN[self.sandbox],
            data={"grant_type": "password", **{name: self.credentials[name] for name in names}},
            headers={"Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (400, 401, 403):
            raise PermanentError(
                f"Hermes refused the login ({response.status_code}): {_error_message(response)}"
            )
        try:
            body = response.json()
            token, lifetime = body["access_token"], int(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise TransientError(
                f"Hermes token response unreadable ({response.status_code})"
            ) from None
        cache.set(self._token_key, token, timeout=max(60, lifetime - 60))
        return token

    def check(self) -> str:
        self.token(fresh=True)
        return "Signed in to Hermes HSI (OAuth)."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = tracking_number.strip()
        response = self._track(number, self.token())
        if response.status_code == 401:
            # Revoked or expired before our cache thought so: one fresh token.
            response = self._track(number, self.token(fresh=True))
        if response.status_code in (401, 403):
            raise PermanentError(f"Hermes rejects our token: {_error_message(response)}")
        return self.parse(response)

    def _track(self, number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            f"{API[self.sandbox]}/shipmentinfo",
            params={"shipmentID": number},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return self.send(request)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error_description") or body.get("error") or body.get("message"))
    except (ValueError, AttributeError):
        return response.reason_phrase


CLIENT = HermesClient
