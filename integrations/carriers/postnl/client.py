"""PostNL Shipping Status API v2 over HTTP, and nothing else.

Authentication is the customer's API key in the ``apikey`` header.
``track`` asks ``GET /shipment/v2/status/barcode/{barcode}`` with
``detail=true``, so the answer (``CompleteStatus``) carries every scan, not
only the current status; the mapping reads both shapes, and the
``Warnings`` list PostNL sends for an unknown barcode.

Credentials (the Connection's): ``api_key``, optional ``sandbox`` (true:
PostNL's sandbox, with its own key)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api.postnl.nl"
SANDBOX = "https://api-sandbox.postnl.nl"
# PostNL: "the Production environment is limited to 1000 calls per minute,
# per key. The Sandbox environment is limited to 15 calls per minute."
PRODUCTION_RATE = 1000 / 60
SANDBOX_RATE = 15 / 60


class PostNLClient(HttpClient):
    carrier = "postnl"
    requests_per_second = PRODUCTION_RATE
    credential_fields = (CredentialField("api_key", "API key", secret=True),)

    def __init__(self, credentials: dict, **kwargs) -> None:
        if credentials.get("sandbox"):
            # Set before the shared bucket is sized from it.
            self.requests_per_second = SANDBOX_RATE
        super().__init__(credentials, **kwargs)

    @property
    def base(self) -> str:
        return SANDBOX if self.credentials.get("sandbox") else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("PostNL connection has no api_key")
        request = self.http.build_request(
            "GET",
            f"{self.base}/shipment/v2/status/barcode/{quote(tracking_number.strip(), safe='')}",
            params={"detail": "true", "language": "EN"},
            headers={"apikey": key, "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"PostNL refuses the API key ({response.status_code}): {_error_message(response)}"
            )
        return self.parse(response)


def _error_message(response: httpx.Response) -> str:
    # The gateway answers {"fault": {"faultstring": "Invalid ApiKey", ...}}.
    try:
        return str(response.json()["fault"]["faultstring"])
    except (ValueError, KeyError, TypeError):
        return response.reason_phrase


CLIENT = PostNLClient
