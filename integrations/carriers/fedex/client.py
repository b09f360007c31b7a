"""FedEx Track API over HTTP, and nothing else.

Authentication is OAuth 2.0 client credentials: the project's API key and
secret key (FedEx Developer Portal) are posted as a form to
``/oauth/token`` for a bearer token valid for an hour, cached for every
worker and fetched again once if FedEx answers 401 anyway. Tracking is
``POST /track/v1/trackingnumbers`` with the number in ``trackingInfo`` and
detailed scans asked for, which is the reply the mapping reads.

Credentials (the Connection's): ``client_id`` (API key), ``client_secret``
(secret key), optional ``sandbox`` (FedEx's test environment)."""

from __future__ import annotations

import httpx

from integrations.carriers.auth import (
    SANDBOX_FIELD,
    BearerTokenClient,
    fetch_bearer_token,
    is_sandbox,
)
from integrations.carriers.client import PermanentError
from integrations.providers import CredentialField

PRODUCTION = "https://apis.fedex.com"
SANDBOX = "https://apis-sandbox.fedex.com"


class FedExClient(BearerTokenClient):
    carrier = "fedex"
    display_name = "FedEx"
    # FedEx "Quotas & rate limits guide": 1,400 transactions per 10 seconds
    # per project; over it, every call is refused for the rest of the window.
    requests_per_second = 140.0
    credential_fields = (
        CredentialField("client_id", "API key", "From the FedEx Developer Portal project"),
        CredentialField("client_secret", "Secret key", secret=True),
        SANDBOX_FIELD,
    )

    @property
    def base(self) -> str:
        return SANDBOX if is_sandbox(self.credentials) else PRODUCTION

    def token(self, *, fresh: bool = False) -> str:
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        if not client_id or not secret:
            raise PermanentError("FedEx connection has no API key / secret key")
        return fetch_bearer_token(
            self,
            self.tokens,
            lambda: self.http.build_request(
                "POST",
                f"{self.base}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
                headers={"Accept": "application/json"},
            ),
            name="FedEx",
            fresh=fresh,
        )

    def _track(self, number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "POST",
            f"{self.base}/track/v1/trackingnumbers",
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
            },
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "X-locale": "en_US",
            },
        )
        return self.send(request)


CLIENT = FedExClient
