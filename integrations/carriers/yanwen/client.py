"""Yanwen (燕文) tracking API over HTTP, and nothing else.

Tracking lives on its own host, apart from Yanwen's signed order API: a
``GET /api/tracking?nums=…`` with the merchant's tracking key (issued with
the customer number) as the bare ``Authorization`` header. Yanwen offers no
test environment for tracking.

Credentials (the Connection's): ``api_key``."""

from __future__ import annotations

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

# Yanwen documents the tracking host over plain HTTP.
BASE = "http://api.track.yw56.com.cn/api/tracking"


class YanwenClient(HttpClient):
    carrier = "yanwen"
    # Yanwen publishes no rate limit for tracking; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField(
            "api_key", "Tracking API key", "Sent as the Authorization header", secret=True
        ),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("Yanwen connection has no api_key")
        request = self.http.build_request(
            "GET",
            BASE,
            params={"nums": tracking_number.strip()},
            headers={"Authorization": key, "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"Yanwen refuses the tracking key ({response.status_code})")
        return self.parse(response)


CLIENT = YanwenClient
