"""Canada Post Tracking web service (REST, XML) over HTTP, and nothing else.

Authentication is HTTP Basic with the API key's username and password
(Canada Post Developer Program; development and production keys differ).
Tracking is ``GET /vis/track/pin/{pin}/detail``, versioned by the
``Accept: application/vnd.cpc.track-v2+xml`` media type; refusals come back
as a ``<messages>`` document (E002 "AAA Authentication Failure" with 401).

Credentials (the Connection's): ``username``, ``password``, optional
``sandbox`` (the development environment, ct.soa-gw)."""

from __future__ import annotations

from urllib.parse import quote

from integrations.carriers.auth import SANDBOX_FIELD, basic_auth, is_sandbox
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://soa-gw.canadapost.ca"
SANDBOX = "https://ct.soa-gw.canadapost.ca"
MEDIA_TYPE = "application/vnd.cpc.track-v2+xml"


class CanadaPostClient(HttpClient):
    carrier = "canadapost"
    # Canada Post publishes no per-second ceiling for tracking; stay conservative.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "API username", "The API key's part before the colon"),
        CredentialField("password", "API password", secret=True),
        SANDBOX_FIELD,
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        username = self.credentials.get("username")
        password = self.credentials.get("password")
        if not username or not password:
            raise PermanentError("Canada Post connection has no API username / password")
        base = SANDBOX if is_sandbox(self.credentials) else PRODUCTION
        request = self.http.build_request(
            "GET",
            f"{base}/vis/track/pin/{quote(tracking_number.strip(), safe='')}/detail",
            headers={
                "Authorization": basic_auth(username, password),
                "Accept": MEDIA_TYPE,
                "Accept-language": "en-CA",
            },
        )
        response = self.send(request)
        result = self.parse(response)
        if response.status_code in (401, 403):
            raise PermanentError(f"Canada Post refuses the API key: {result.message}")
        return result


CLIENT = CanadaPostClient
