"""17TRACK Tracking API v2.2 over HTTP, and nothing else.

Authentication is the account's security key in the ``17token`` header.
17TRACK only tracks registered numbers, so ``track`` asks
``POST /gettrackinfo`` first and, when 17TRACK answers that the number is
not registered (-18019902), registers it with ``POST /register``; 17TRACK
then fetches the carrier in the background and the next poll gets the
events. Every answer is HTTP 200 with a ``code``: 0 is success, and a
refused key or a used-up quota are codes too, not HTTP statuses.

Credentials (the Connection's): ``api_key`` (the security key)."""

from __future__ import annotations

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.17track.net/track/v2.2"
NOT_REGISTERED = -18019902
# Top-level codes that mean the key or the account, not the number, is the problem.
REFUSED = {
    -18010001: "this server's IP address is not on the key's whitelist",
    -18010002: "the security key is invalid",
    -18010004: "the account is disabled",
    -18010005: "the key may not call this API",
}
# The key's tracking quota is used up: nothing registers until someone tops it up.
QUOTA_USED_UP = -18019908

# Our carrier codes -> 17TRACK carrier numbers. Without one 17TRACK detects
# the carrier from the number, which can guess wrong.
CARRIER_NUMBERS = {
    "dhl_express": 100001,
    "ups": 100002,
    "fedex": 100003,
    "usps": 21051,
    "chinapost": 3011,
}


class SeventeenTrackClient(HttpClient):
    carrier = "17track"
    # 17TRACK API documentation: at most 3 requests a second per key.
    requests_per_second = 3.0
    credential_fields = (
        CredentialField("api_key", "Security key", "17TRACK API console, Settings", secret=True),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        item: dict[str, object] = {"number": tracking_number.strip()}
        if carrier in CARRIER_NUMBERS:
            item["carrier"] = CARRIER_NUMBERS[carrier]
        response = self._call("/gettrackinfo", [item])
        result = self.parse(response)
        if result.outcome == "not_found" and result.error_code == str(NOT_REGISTERED):
            result = self.parse(self._call("/register", [item]))
        if result.error_code == str(QUOTA_USED_UP):
            raise PermanentError(f"17TRACK quota is used up: {result.message}")
        return result

    def check(self) -> str:
        body = self._call("/getquota", {}).json()
        remaining = (body.get("data") or {}).get("quota_remain", "?")
        return f"Reached 17TRACK: {remaining} tracking numbers left in the quota."

    def _call(self, path: str, payload):
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("17TRACK connection has no security key")
        request = self.http.build_request(
            "POST",
            BASE + path,
            json=payload,
            headers={"17token": key, "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"17TRACK refuses the security key ({response.status_code})")
        try:
            code = int(response.json().get("code") or 0)
        except (ValueError, TypeError, AttributeError):
            return response
        if code in REFUSED:
            raise PermanentError(f"17TRACK refuses the connection ({code}): {REFUSED[code]}")
        return response


CLIENT = SeventeenTrackClient
