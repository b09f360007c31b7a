"""DHL Shipment Tracking - Unified API over HTTP, and nothing else.

Authentication is the app's API key in the ``DHL-API-Key`` header (DHL
developer portal). Tracking is ``GET /track/shipments?trackingNumber=…``;
not-found and other refusals come back as RFC 7807 problem documents,
which the mapping reads like any other answer.

Credentials (the Connection's): ``api_key``, optional ``sandbox`` (DHL's
test gateway, which answers with canned shipments)."""

from __future__ import annotations

from integrations.carriers.auth import SANDBOX_FIELD, error_message, is_sandbox
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api-eu.dhl.com/track/shipments"
SANDBOX = "https://api-test.dhl.com/track/shipments"


class DhlClient(HttpClient):
    carrier = "dhl"
    # DHL's initial service level for this API: 250 calls a day, at most one
    # call every 5 seconds per API key (raised on request).
    requests_per_second = 0.2
    credential_fields = (
        CredentialField("api_key", "API key", "Shipment Tracking - Unified app key", secret=True),
        SANDBOX_FIELD,
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("DHL connection has no api_key")
        request = self.http.build_request(
            "GET",
            SANDBOX if is_sandbox(self.credentials) else PRODUCTION,
            params={"trackingNumber": tracking_number.strip(), "language": "en"},
            headers={"DHL-API-Key": key, "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"DHL refuses the API key ({response.status_code}): {error_message(response)}"
            )
        return self.parse(response)


CLIENT = DhlClient
