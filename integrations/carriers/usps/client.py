"""USPS Tracking API v3 over HTTP, and nothing else.

Authentication is OAuth 2.0 client credentials: the app's consumer key and
secret buy a bearer token at ``/oauth2/v3/token`` (about eight hours), cached
for every worker and fetched again once if USPS answers 401 anyway.
Tracking is ``GET /tracking/v3/tracking/{number}?expand=DETAIL``, the reply
with every scan event that the mapping reads.

Credentials (the Connection's): ``client_id`` (consumer key),
``client_secret`` (consumer secret), optional ``sandbox`` (USPS's test
environment, apis-tem)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from integrations.carriers.auth import (
    SANDBOX_FIELD,
    BearerTokenClient,
    fetch_bearer_token,
    is_sandbox,
)
from integrations.carriers.client import PermanentError
from integrations.providers import CredentialField

PRODUCTION = "https://apis.usps.com"
SANDBOX = "https://apis-tem.usps.com"


class UspsClient(BearerTokenClient):
    carrier = "usps"
    display_name = "USPS"
    # A new USPS API app gets 60 requests an hour (raised on request through
    # the developer portal); token requests count too, hence the shared token.
    requests_per_second = 60 / 3600
    credential_fields = (
        CredentialField("client_id", "Consumer key", "From the USPS Developer Portal app"),
        CredentialField("client_secret", "Consumer secret", secret=True),
        SANDBOX_FIELD,
    )

    @property
    def base(self) -> str:
        return SANDBOX if is_sandbox(self.credentials) else PRODUCTION

    def token(self, *, fresh: bool = False) -> str:
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        if not client_id or not secret:
            raise PermanentError("USPS connection has no consumer key / secret")
        return fetch_bearer_token(
            self,
            self.tokens,
            lambda: self.http.build_request(
                "POST",
                f"{self.base}/oauth2/v3/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
                headers={"Accept": "application/json"},
            ),
            name="USPS",
            fresh=fresh,
        )

    def _track(self, number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            f"{self.base}/tracking/v3/tracking/{quote(number, safe='')}",
            params={"expand": "DETAIL"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return self.send(request)


CLIENT = UspsClient
