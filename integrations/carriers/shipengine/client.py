"""ShipEngine tracking over HTTP, and nothing else.

Authentication is the account's API key in the ``API-Key`` header (sandbox
keys start with ``TEST_`` and reach the same host). Tracking is
``GET /v1/tracking?carrier_code=…&tracking_number=…``: ShipEngine asks the
carrier on the spot, so the carrier code is required and comes from the
shipment's carrier.

Credentials (the Connection's): ``api_key``."""

from __future__ import annotations

from integrations.carriers.auth import error_message
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.shipengine.com/v1"

# Our carrier codes -> ShipEngine carrier codes, where they differ.
CARRIER_CODES = {
    "usps": "stamps_com",
    "canadapost": "canada_post",
    "purolator": "purolator_canada",
}


class ShipEngineClient(HttpClient):
    carrier = "shipengine"
    # ShipEngine's documented default: 200 requests a minute per API key.
    requests_per_second = 200 / 60
    credential_fields = (
        CredentialField("api_key", "API key", "TEST_ keys use the sandbox", secret=True),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        params = {
            "carrier_code": CARRIER_CODES.get(carrier, carrier),
            "tracking_number": tracking_number.strip(),
        }
        return self.parse(self._call("/tracking", params=params))

    def check(self) -> str:
        response = self._call("/carriers")
        if response.status_code != 200:
            raise PermanentError(
                f"ShipEngine answered {response.status_code}: {error_message(response)}"
            )
        carriers = response.json().get("carriers") or []
        return f"Reached ShipEngine: {len(carriers)} carrier accounts connected."

    def _call(self, path: str, **kwargs):
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("ShipEngine connection has no api_key")
        request = self.http.build_request(
            "GET", BASE + path, headers={"API-Key": key, "Accept": "application/json"}, **kwargs
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"ShipEngine refuses the API key ({response.status_code}): {error_message(response)}"
            )
        return response


CLIENT = ShipEngineClient
