"""ParcelOne TrackLMC REST API over HTTP, and nothing else.

Authentication is HTTP Basic with the ParcelOne API user and password.
``track`` asks ``GET /v1/tracklmc/tracking/{CarrierIDLMC}/{TrackingID}``:
the first part names the last-mile carrier the number belongs to, which
for ParcelOne's own numbers is ParcelOne itself (``PA1``). The mapping
reads the ``success``/``results`` document.

Credentials (the Connection's): ``username``, ``password``, optional
``carrier_id`` (the CarrierIDLMC to ask, default PA1) and ``sandbox``
(true: ParcelOne's sandbox API)."""

from __future__ import annotations

import base64
from urllib.parse import quote

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api.parcel.one/v1"
SANDBOX = "https://sandboxapi.parcel.one/v1"
PARCELONE = "PA1"


class ParcelOneClient(HttpClient):
    carrier = "parcelone"
    # ParcelOne publishes no request ceiling; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "API user"),
        CredentialField("password", "API password", secret=True),
        CredentialField(
            "carrier_id", "Last-mile carrier id", "CarrierIDLMC, default PA1", required=False
        ),
    )

    @property
    def base(self) -> str:
        return SANDBOX if self.credentials.get("sandbox") else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        user = self.credentials.get("username")
        password = self.credentials.get("password")
        if not user or not password:
            raise PermanentError("ParcelOne connection has no username / password")
        lmc = quote(self.credentials.get("carrier_id") or PARCELONE, safe="")
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        request = self.http.build_request(
            "GET",
            f"{self.base}/tracklmc/tracking/{lmc}/{quote(tracking_number.strip(), safe='')}",
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"ParcelOne refuses the API user ({response.status_code}): {response.text[:200]}"
            )
        return self.parse(response)


CLIENT = ParcelOneClient
