"""Royal Mail Tracking API v2 over HTTP, and nothing else.

Authentication is the app's IBM API Connect pair, sent on every call as
``X-IBM-Client-Id`` and ``X-IBM-Client-Secret``, together with
``X-Accept-RMG-Terms: yes`` (without it Royal Mail answers E0004). ``track``
asks for a mail piece's full history, ``GET /mailpieces/v2/{id}/events``,
whose ``mailPieces`` document the mapping reads.

Royal Mail has no separate sandbox host for tracking: the onboarding plan
runs on the production host with a lower quota.

Credentials (the Connection's): ``client_id``, ``client_secret``."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.royalmail.net"


class RoyalMailClient(HttpClient):
    carrier = "royalmail"
    # Royal Mail's plans cap calls per day (50 on Assessment) and per minute
    # without publishing a per-second figure: stay low.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("client_id", "Client ID", "X-IBM-Client-Id of your developer app"),
        CredentialField("client_secret", "Client secret", secret=True),
    )

    @property
    def headers(self) -> dict[str, str]:
        client_id = self.credentials.get("client_id")
        secret = self.credentials.get("client_secret")
        if not client_id or not secret:
            raise PermanentError("Royal Mail connection has no client_id / client_secret")
        return {
            "X-IBM-Client-Id": client_id,
            "X-IBM-Client-Secret": secret,
            "X-Accept-RMG-Terms": "yes",
            "Accept": "application/json",
        }

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = quote(tracking_number.strip(), safe="")
        request = self.http.build_request(
            "GET", f"{BASE}/mailpieces/v2/{number}/events", headers=self.headers
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"Royal Mail refuses the client id / secret ({response.status_code}): "
                f"{_error_message(response)}"
            )
        return self.parse(response)


def _error_message(response: httpx.Response) -> str:
    # The API gateway answers {"httpCode", "httpMessage", "moreInformation"};
    # the tracking service itself answers {"errors": [{"errorDescription"}]}.
    try:
        body = response.json()
        errors = body.get("errors") or []
        if errors:
            return "; ".join(str(e.get("errorDescription", "")) for e in errors)
        return body.get("moreInformation") or body.get("httpMessage") or response.reason_phrase
    except (ValueError, AttributeError):
        return response.reason_phrase


CLIENT = RoyalMailClient
