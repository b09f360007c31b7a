"""Australia Post Shipping and Tracking API (Track items) over HTTP, and nothing else.

Authentication is HTTP Basic with the API key and its password, plus the
contract's ``Account-Number`` header on every call. The API is only open to
eParcel / StarTrack contract customers; the test environment lives under
``/test`` on the same host.

Credentials (the Connection's): ``api_key``, ``password``, ``account_number``,
optional ``sandbox`` (yes: the test environment)."""

from __future__ import annotations

import base64

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://digitalapi.auspost.com.au"
SANDBOX = "https://digitalapi.auspost.com.au/test"


class AustraliaPostClient(HttpClient):
    carrier = "australiapost"
    # Australia Post sets per-credential limits it does not publish and
    # answers 429 past them; one call a second stays well inside what a
    # contract account is given.
    requests_per_second = 1.0
    credential_fields = (
        CredentialField("api_key", "API key", "Shipping and Tracking API key"),
        CredentialField("password", "API password", secret=True),
        CredentialField("account_number", "Account number", "Your eParcel / StarTrack account"),
        CredentialField(
            "sandbox", "Test environment", "Type yes to use the test environment", required=False
        ),
    )

    @property
    def base(self) -> str:
        return SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        password = self.credentials.get("password")
        account = self.credentials.get("account_number")
        if not key or not password or not account:
            raise PermanentError(
                "Australia Post connection needs api_key, password and account_number"
            )
        request = self.http.build_request(
            "GET",
            f"{self.base}/shipping/v1/track",
            params={"tracking_ids": tracking_number.strip()},
            headers={
                "Authorization": _basic(key, password),
                "Account-Number": account,
                "Accept": "application/json",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"Australia Post refuses the credentials ({response.status_code}): "
                f"{_error_message(response)}"
            )
        return self.parse(response)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _error_message(response: httpx.Response) -> str:
    try:
        first = response.json()["errors"][0]
        return str(first.get("message") or first.get("name") or response.reason_phrase)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return response.reason_phrase


CLIENT = AustraliaPostClient
