"""bpost tracked-mail API over HTTP, and nothing else.

Authentication is HTTP Basic with the Shipping Manager account id and its
API passphrase. ``track`` asks
``GET /services/trackedmail/item/{itemCode}/trackingInfo``, whose
``itemTracking`` XML the mapping reads.

Credentials (the Connection's): ``account_id``, ``passphrase``."""

from __future__ import annotations

import base64
from urllib.parse import quote

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.parcel.bpost.cloud/services/trackedmail"


class BpostClient(HttpClient):
    carrier = "bpost"
    # bpost publishes no request ceiling for tracked-mail; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("account_id", "Account id", "Your Shipping Manager account id"),
        CredentialField("passphrase", "API passphrase", secret=True),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        account = self.credentials.get("account_id")
        passphrase = self.credentials.get("passphrase")
        if not account or not passphrase:
            raise PermanentError("bpost connection has no account_id / passphrase")
        basic = base64.b64encode(f"{account}:{passphrase}".encode()).decode()
        request = self.http.build_request(
            "GET",
            f"{BASE}/item/{quote(tracking_number.strip(), safe='')}/trackingInfo",
            headers={"Authorization": f"Basic {basic}", "Accept": "application/xml"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"bpost refuses the account id / passphrase ({response.status_code}): "
                f"{response.text[:200] or response.reason_phrase}"
            )
        return self.parse(response)


CLIENT = BpostClient
