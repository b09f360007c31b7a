"""UPS Track API over HTTP, and nothing else.

Authentication is OAuth 2.0 client credentials: the app's client id and
secret (HTTP Basic) buy a bearer token at ``/security/v1/oauth/token``,
valid for about four hours. The token is cached for every worker until a
minute before it expires, and fetched again when UPS answers 401 anyway
(revoked, or rotated credentials). Each Track call carries the ``transId``
and ``transactionSrc`` headers UPS requires.

Credentials (the Connection's): ``client_id``, ``client_secret``, optional
``merchant_id`` (the shipper account number, sent as ``x-merchant-id``) and
``sandbox`` (true: UPS's Customer Integration Environment)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from urllib.parse import quote

import httpx
from django.core.cache import cache

from integrations.carriers.auth import is_sandbox
from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://onlinetools.ups.com"
SANDBOX = "https://wwwcie.ups.com"
TRANSACTION_SOURCE = "postpurchase-desk"


class UpsClient(HttpClient):
    carrier = "ups"
    # UPS publishes no fixed ceiling for Track; stay well inside what an app
    # is allowed before it gets 429s.
    requests_per_second = 5.0
    credential_fields = (
        CredentialField("client_id", "OAuth client id"),
        CredentialField("client_secret", "OAuth client secret", secret=True),
        CredentialField(
            "merchant_id", "Shipper account number", "Sent as x-merchant-id", required=False
        ),
    )

    @property
    def base(self) -> str:
        return SANDBOX if is_sandbox(self.credentials) else PRODUCTION

    @property
    def _token_key(self) -> str:
        client_id = self.credentials.get("client_id", "")
        digest = hashlib.sha256(f"{self.base}|{client_id}".encode()).hexdigest()[:24]
        return f"carriers:ups:token:{digest}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        if not client_id or not secret:
            raise PermanentError("UPS connection has no client_id / client_secret")
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        headers = {"Accept": "application/json", "Authorization": f"Basic {basic}"}
        if self.credentials.get("merchant_id"):
            headers["x-merchant-id"] = self.credentials["merchant_id"]
        request = self.http.build_request(
            "POST",
            f"{self.base}/security/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=headers,
        )
        response = self.send(request)
        if response.status_code in (400, 401, 403):
            raise PermanentError(
                f"UPS refused the client credentials ({response.status_code}): "
                f"{_error_message(response)}"
            )
        try:
            body = response.json()
            token = body["access_token"]
            # UPS sends expires_in as a string of seconds.
            lifetime = int(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise TransientError(
                f"UPS token response unreadable ({response.status_code})"
            ) from None
        cache.set(self._token_key, token, timeout=max(60, lifetime - 60))
        return token

    def check(self) -> str:
        self.token(fresh=True)
        return "Signed in to UPS (OAuth client credentials)."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        response = self._track(tracking_number, self.token())
        if response.status_code == 401:
            # Revoked or expired before our cache thought so: one fresh token.
            response = self._track(tracking_number, self.token(fresh=True))
            if response.status_code == 401:
                raise PermanentError(f"UPS rejects our token: {_error_message(response)}")
        return self.parse(response)

    def _track(self, tracking_number: str, token: str) -> httpx.Response:
        request = self.http.build_request(
            "GET",
            f"{self.base}/api/track/v1/details/{quote(tracking_number.strip(), safe='')}",
            params={
                "locale": "en_US",
                "returnSignature": "false",
                "returnMilestones": "false",
                "returnPOD": "false",
            },
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "transId": uuid.uuid4().hex,
                "transactionSrc": TRANSACTION_SOURCE,
            },
        )
        return self.send(request)


def _error_message(response: httpx.Response) -> str:
    try:
        errors = response.json()["response"]["errors"]
        return "; ".join(str(e.get("message", "")) for e in errors) or response.reason_phrase
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.reason_phrase


CLIENT = UpsClient
