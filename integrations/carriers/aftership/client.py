"""AfterShip Tracking API over HTTP, and nothing else.

Authentication is the account's API key in the ``as-api-key`` header. A
number must be registered with AfterShip before it is tracked, so ``track``
looks the number up (``GET /trackings?tracking_numbers=…``) and registers
it (``POST /trackings``) the first time; AfterShip then fetches the
carrier in the background and the next poll gets the checkpoints.

Credentials (the Connection's): ``api_key``, optional ``api_version``
(default below)."""

from __future__ import annotations

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.aftership.com/tracking/{version}"
API_VERSION = "2024-07"

# Our carrier codes -> AfterShip courier slugs. Without a slug AfterShip
# detects the courier from the number, which is slower and can guess wrong.
SLUGS = {
    "ups": "ups",
    "fedex": "fedex",
    "usps": "usps",
    "dhl_express": "dhl",
    "canadapost": "canada-post",
    "royalmail": "royal-mail",
    "australiapost": "australia-post",
    "purolator": "purolator",
    "dpd": "dpd",
    "gls": "gls",
    "bpost": "bpost",
    "aramex": "aramex",
    "tnt": "tnt",
    "sf_express": "sf-express",
    "yunexpress": "yunexpress",
    # Carriers without an API of their own we can use (China Post issues API
    # access per contract) are tracked here.
    "chinapost": "china-post",
    "4px": "4px",
    "yanwen": "yanwen",
    "cainiao": "cainiao",
}


def slug_for(carrier: str, tracking_number: str) -> str:
    """AfterShip's courier slug for our carrier code; EMS items (E… S10 numbers)
    have a slug of their own."""
    if carrier == "chinapost" and tracking_number[:1].upper() == "E":
        return "china-ems"
    return SLUGS.get(carrier, "")


class AfterShipClient(HttpClient):
    carrier = "aftership"
    # AfterShip's documented ceiling for GET /trackings (per organization).
    requests_per_second = 6.0
    credential_fields = (CredentialField("api_key", "API key", secret=True),)

    @property
    def base(self) -> str:
        return BASE.format(version=self.credentials.get("api_version") or API_VERSION)

    @property
    def headers(self) -> dict[str, str]:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("AfterShip connection has no api_key")
        return {"as-api-key": key, "Accept": "application/json"}

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = tracking_number.strip()
        slug = slug_for(carrier, number)
        params = {"tracking_numbers": number}
        if slug:
            params["slug"] = slug
        response = self._call("GET", "/trackings", params=params)
        result = self.parse(response)
        if result.outcome == "not_found" and response.status_code == 200:
            # Unknown to AfterShip yet: register it so it starts tracking.
            body = {"tracking_number": number}
            if slug:
                body["slug"] = slug
            result = self.parse(self._call("POST", "/trackings", json=body))
        return result

    def check(self) -> str:
        response = self._call("GET", "/couriers")
        if response.status_code != 200:
            raise PermanentError(
                f"AfterShip answered {response.status_code}: {response.text[:200]}"
            )
        couriers = (response.json().get("data") or {}).get("couriers") or []
        return f"Reached AfterShip: {len(couriers)} couriers enabled."

    def _call(self, method: str, path: str, **kwargs):
        request = self.http.build_request(method, self.base + path, headers=self.headers, **kwargs)
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"AfterShip refuses the API key ({response.status_code})")
        return response


CLIENT = AfterShipClient
