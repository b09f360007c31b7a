"""GLS Group Track and Trace API over HTTP, and nothing else.

Authentication is OAuth 2.0 client credentials on the GLS API gateway: the
app's client id and secret (HTTP Basic) buy a bearer token at
``/oauth2/v2/token``. The token is cached for every worker until a minute
before it expires, and fetched again, once, when GLS answers 401 anyway.
``track`` asks ``GET /track-and-trace-v1/tracking/simple/trackids/{id}``,
whose ``parcels`` list the mapping reads.

Credentials (the Connection's): ``client_id``, ``client_secret``, optional
``sandbox`` (true: GLS's sandbox gateway)."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import httpx
from django.core.cache import cache

from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api.gls-group.net"
SANDBOX = "https://api-sandbox.gls-group.net"


class GlsClient(HttpClient):
    carrier = "gls"
    # GLS publishes no per-second ceiling for Track and Trace; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("client_id", "Client id", "From the GLS developer portal app"),
        CredentialField("client_secret", "Client secret", secret=True),
    )

    @property
    def base(self) -> str:
        return SANDBOX if self.credentials.get("sandbox") else PRODUCTION

    @property
    def _token_key(self) -> str:
        client_id = self.credentials.get("client_id", "")
        digest = hashlib.sha256(f"{self.base}|{client_id}".encode()).hexdigest()[:24]
        return f"carriers:gls:token:{digest}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        if not client_id or not secret:
            raise PermanentError("GLS connection has no client_id / client_secret")
        request = self.http.build_request(
            "POST",
            f"{self.base}/oauth2/v2/token",
            data={"grant_type": "client_credentials"},
            headers={
                "Accept": "application/json",
                "Authorization": "Basic "
                + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
            },
        )
        response = self.send(request)
        if response.status_code in (400, 401, 403):
            raise PermanentError(
                f"GLS refused the client credentials ({response.status_code}): "
                f"{_error_message(response)}"
            )
        token, lifetime = _read_token(response, "GLS")
        cache.set(self._token_key, token, timeout=max(60, lifetime - 60))
        return token

    def check(self) -> str:
        self.token(fresh=True)
        return "Signed in to GLS (OAuth client credentials)."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = quote(tracking_number.strip(), safe="")
        response = self._track(number, self.token())
        if response.status_code == 401:
            # Revoked or expired before our cache thought so: one fresh token.
            response = self._track(number, self.token(fresh=True))
        if response.status_code in (401, 403):
            raise PermanentError(f"GLS rejects our token: {_error_message(response)}")
        return self.parse(response)

    def _track(self, number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            f"{self.base}/track-and-trace-v1/tracking/simple/trackids/{number}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return self.send(request)


def _read_token(response: httpx.Response, name: str) -> tuple[str, int]:
    try:
        body = response.json()
        return body["access_token"], int(body.get("expires_in") or 3600)
    except (ValueError, KeyError, TypeError):
        raise TransientError(f"{name} token response unreadable ({response.status_code})") from None


def _error_message(response: httpx.Response) -> str:
    # The gateway answers OAuth errors ({"error", "error_description"}); GLS
    # services may put the reason in "error"/"message" headers with no body.
    try:
        body = response.json()
        return str(body.get("error_description") or body.get("error") or body.get("message"))
    except (ValueError, AttributeError):
        return response.headers.get("message") or response.reason_phrase


CLIENT = GlsClient
