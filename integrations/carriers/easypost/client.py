"""EasyPost Trackers API over HTTP, and nothing else.

Authentication is HTTP Basic with the API key as the username and no
password; a test key and a production key reach the same host, and the key
decides the mode. ``track`` creates a tracker (``POST /v2/trackers``):
EasyPost answers a create for a code and carrier it already tracks with
the existing tracker, so the same call registers a number the first time
and reads its progress afterwards. The answer is the Tracker object the
mapping reads; an untrackable number comes back as ``TRACKER.CREATE.ERROR``.

Credentials (the Connection's): ``api_key``."""

from __future__ import annotations

from integrations.carriers.auth import basic_auth, error_message
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.easypost.com/v2"

# Our carrier codes -> EasyPost carrier names. Without one EasyPost guesses
# the carrier from the number.
CARRIERS = {
    "usps": "USPS",
    "ups": "UPS",
    "fedex": "FedEx",
    "dhl_express": "DHLExpress",
    "canadapost": "CanadaPost",
    "purolator": "Purolator",
}


class EasyPostClient(HttpClient):
    carrier = "easypost"
    # EasyPost documents no fixed ceiling (its limits adapt to load and
    # answer 429); stay conservative.
    requests_per_second = 5.0
    credential_fields = (
        CredentialField(
            "api_key", "API key", "A test key tracks EasyPost's test numbers", secret=True
        ),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        tracker = {"tracking_code": tracking_number.strip()}
        if carrier in CARRIERS:
            tracker["carrier"] = CARRIERS[carrier]
        return self.parse(self._call("POST", "/trackers", json={"tracker": tracker}))

    def check(self) -> str:
        # Listing trackers is read-only; creating one to test would be billed.
        response = self._call("GET", "/trackers", params={"page_size": 1})
        if response.status_code != 200:
            raise PermanentError(
                f"EasyPost answered {response.status_code}: {error_message(response)}"
            )
        return "Reached EasyPost: the API key lists trackers."

    def _call(self, method: str, path: str, **kwargs):
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("EasyPost connection has no api_key")
        request = self.http.build_request(
            method,
            BASE + path,
            headers={"Authorization": basic_auth(key, ""), "Accept": "application/json"},
            **kwargs,
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"EasyPost refuses the API key ({response.status_code}): {error_message(response)}"
            )
        return response


CLIENT = EasyPostClient
