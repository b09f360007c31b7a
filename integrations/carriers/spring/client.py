"""Spring GDS (Mailing Technology) API tracking over HTTP, and nothing else.

Spring's API is one endpoint taking JSON commands: every request carries the
account's ``Apikey`` and a ``Command``. ``track`` sends ``TrackShipment``
for one tracking number; the answer has an ``ErrorLevel`` (0 fine, 1 done
with warnings, 10 failed) and an ``Error`` text, which the mapping reads. A
test call adds ``testMode=1`` to the same URL.

Credentials (the Connection's): ``api_key``, optional ``sandbox`` (true:
test mode)."""

from __future__ import annotations

import json

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

URL = "https://mtapi.net/"


class SpringClient(HttpClient):
    carrier = "spring"
    # Spring publishes no request ceiling; stay modest.
    requests_per_second = 2.0
    credential_fields = (CredentialField("api_key", "API key", secret=True),)

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("Spring connection has no api_key")
        body = {
            "Apikey": key,
            "Command": "TrackShipment",
            "Shipment": {"TrackingNumber": tracking_number.strip()},
        }
        request = self.http.build_request(
            "POST",
            URL,
            params={"testMode": "1"} if self.credentials.get("sandbox") else None,
            # Spring documents text/json as the request's content type.
            content=json.dumps(body).encode(),
            headers={"Content-Type": "text/json", "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"Spring refuses the API key ({response.status_code}): {response.text[:200]}"
            )
        return self.parse(response)


CLIENT = SpringClient
