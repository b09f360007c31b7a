"""Amazon Shipping API v2 ``getTracking`` over HTTP, and nothing else.

Authentication is Login with Amazon (LWA): the app's client id and secret
plus the refresh token the selling partner granted buy an access token at
``https://api.amazon.com/auth/o2/token`` (an hour), sent as
``x-amz-access-token``; the token is cached for every worker and fetched
again once if the API refuses it. Every call names the Amazon Shipping
business (``x-amzn-shipping-business-id``, e.g. ``AmazonShipping_UK``).
Tracking is ``GET /shipping/v2/tracking?trackingId=…&carrierId=…``.

Credentials (the Connection's): ``client_id``, ``client_secret``,
``refresh_token``, optional ``region`` (na, eu or fe: the Selling Partner
API endpoint), ``business_id``, ``carrier_id`` and ``sandbox``."""

from __future__ import annotations

import httpx

from integrations.carriers.auth import (
    SANDBOX_FIELD,
    BearerTokenClient,
    TokenCache,
    fetch_bearer_token,
    is_sandbox,
)
from integrations.carriers.client import PermanentError
from integrations.providers import CredentialField

LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
HOSTS = {
    "na": "sellingpartnerapi-na.amazon.com",
    "eu": "sellingpartnerapi-eu.amazon.com",
    "fe": "sellingpartnerapi-fe.amazon.com",
}
DEFAULT_BUSINESS = "AmazonShipping_US"
DEFAULT_CARRIER = "AMZN_US"


class AmazonShippingClient(BearerTokenClient):
    carrier = "amazon_shipping"
    display_name = "Amazon Shipping"
    sign_in = "Login with Amazon"
    # The Selling Partner API answers an expired token with 403.
    refused_token_statuses = (401, 403)
    # Selling Partner API usage plan for getTracking: 80 requests a second, burst 100.
    requests_per_second = 80.0
    credential_fields = (
        CredentialField("client_id", "LWA client id"),
        CredentialField("client_secret", "LWA client secret", secret=True),
        CredentialField("refresh_token", "Refresh token", "From authorizing the app", secret=True),
        CredentialField("region", "Region", "na, eu or fe (default na)", required=False),
        CredentialField(
            "business_id", "Shipping business id", "e.g. AmazonShipping_UK", required=False
        ),
        CredentialField("carrier_id", "Carrier id", "Default AMZN_US", required=False),
        SANDBOX_FIELD,
    )

    @property
    def base(self) -> str:
        host = HOSTS.get((self.credentials.get("region") or "na").strip().lower(), HOSTS["na"])
        return f"https://{'sandbox.' if is_sandbox(self.credentials) else ''}{host}"

    @property
    def tokens(self) -> TokenCache:
        return TokenCache(
            self.carrier,
            LWA_ENDPOINT,
            self.credentials.get("client_id", ""),
            self.credentials.get("refresh_token", ""),
        )

    def token(self, *, fresh: bool = False) -> str:
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        refresh = self.credentials.get("refresh_token")
        if not client_id or not secret or not refresh:
            raise PermanentError("Amazon Shipping connection has no client id / secret / token")
        return fetch_bearer_token(
            self,
            self.tokens,
            lambda: self.http.build_request(
                "POST",
                LWA_ENDPOINT,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                    "client_id": client_id,
                    "client_secret": secret,
                },
                headers={"Accept": "application/json"},
            ),
            name="Amazon (Login with Amazon)",
            fresh=fresh,
        )

    def _track(self, number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            f"{self.base}/shipping/v2/tracking",
            params={
                "trackingId": number,
                "carrierId": self.credentials.get("carrier_id") or DEFAULT_CARRIER,
            },
            headers={
                "x-amz-access-token": token,
                "x-amzn-shipping-business-id": self.credentials.get("business_id")
                or DEFAULT_BUSINESS,
                "Accept": "application/json",
            },
        )
        return self.send(request)


CLIENT = AmazonShippingClient
