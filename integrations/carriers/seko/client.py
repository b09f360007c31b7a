"""SEKO Omni-Channel (OmniParcel) tracking over HTTP, and nothing else.

Authentication is the account's access key in the ``access_key`` header.
``POST /labels/statusv2`` takes a JSON list of consignment numbers and
answers a list of consignments with their events; SEKO's staging host
mirrors production for test accounts.

Credentials (the Connection's): ``access_key``, optional ``sandbox`` (yes:
the staging host)."""

from __future__ import annotations

import json

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api.omniparcel.com"
SANDBOX = "https://staging.omniparcel.com"


class SekoClient(HttpClient):
    carrier = "seko"
    # SEKO publishes no rate limit for the Omni-Channel API; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("access_key", "Access key", secret=True),
        CredentialField(
            "sandbox", "Staging", "Type yes to use SEKO's staging host", required=False
        ),
    )

    @property
    def url(self) -> str:
        base = SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION
        return base + "/labels/statusv2"

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("access_key")
        if not key:
            raise PermanentError("SEKO connection has no access_key")
        request = self.http.build_request(
            "POST",
            self.url,
            content=json.dumps([tracking_number.strip()]).encode(),
            headers={
                "access_key": key,
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"SEKO refuses the access key ({response.status_code})")
        return self.parse(response)


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = SekoClient
