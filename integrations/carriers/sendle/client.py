"""Sendle tracking API over HTTP, and nothing else.

Authentication is HTTP Basic: the Sendle ID is the user name and the API key
the password. Parcels are tracked by their Sendle reference
(``GET /api/tracking/{ref}``); ``/api/ping`` answers only when the
credentials are good, which makes it the connection check. The sandbox is a
separate host with its own accounts.

Credentials (the Connection's): ``sendle_id``, ``api_key``, optional
``sandbox`` (yes: sandbox.sendle.com)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api.sendle.com"
SANDBOX = "https://sandbox.sendle.com"


class SendleClient(HttpClient):
    carrier = "sendle"
    # Sendle documents 10 requests a second per IP for tracking (and asks
    # for at most one poll per parcel an hour).
    requests_per_second = 10.0
    credential_fields = (
        CredentialField("sendle_id", "Sendle ID"),
        CredentialField("api_key", "API key", secret=True),
        CredentialField(
            "sandbox", "Sandbox", "Type yes for a sandbox.sendle.com account", required=False
        ),
    )

    @property
    def base(self) -> str:
        return SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        reference = quote(tracking_number.strip(), safe="")
        return self.parse(self._get(f"/api/tracking/{reference}"))

    def check(self) -> str:
        response = self._get("/api/ping")
        if response.status_code != 200:
            raise PermanentError(
                f"Sendle answered {response.status_code}: {_error_message(response)}"
            )
        return "Signed in to Sendle (ping answered)."

    def _get(self, path: str) -> httpx.Response:
        sendle_id = self.credentials.get("sendle_id")
        key = self.credentials.get("api_key")
        if not sendle_id or not key:
            raise PermanentError("Sendle connection has no sendle_id / api_key")
        basic = base64.b64encode(f"{sendle_id}:{key}".encode()).decode()
        request = self.http.build_request(
            "GET",
            self.base + path,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"Sendle refuses the credentials ({response.status_code}): {_error_message(response)}"
            )
        return response


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error_description") or body.get("error") or response.reason_phrase)
    except (ValueError, TypeError, AttributeError):
        return response.reason_phrase


CLIENT = SendleClient
