"""YunExpress (云途) OMS API tracking over HTTP, and nothing else.

Authentication is an ``Authorization: Basic`` header whose value is the
Base64 of ``customer code & API secret`` (an ampersand, not the usual
colon). ``Tracking/GetTrackInfo`` takes the waybill, order or tracking
number and answers ``Item`` with the package state and its scans;
``Common/GetCountry`` needs valid credentials but touches no parcel, so it
is the connection check.

Credentials (the Connection's): ``customer_code``, ``api_secret``, optional
``sandbox`` (yes: the UAT host)."""

from __future__ import annotations

import base64

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

# YunExpress documents these hosts over plain HTTP.
PRODUCTION = "http://oms.api.yunexpress.com/api"
SANDBOX = "http://omsapi.uat.yunexpress.com/api"


def authorization(customer_code: str, api_secret: str) -> str:
    token = base64.b64encode(f"{customer_code}&{api_secret}".encode()).decode()
    return f"Basic {token}"


class YunExpressClient(HttpClient):
    carrier = "yunexpress"
    # YunExpress publishes no rate limit for its OMS API; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("customer_code", "Customer code"),
        CredentialField("api_secret", "API secret", secret=True),
        CredentialField(
            "sandbox", "Test environment", "Type yes to use the UAT host", required=False
        ),
    )

    @property
    def base(self) -> str:
        return SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        response = self._get("/Tracking/GetTrackInfo", {"OrderNumber": tracking_number.strip()})
        return self.parse(response)

    def check(self) -> str:
        response = self._get("/Common/GetCountry", {})
        try:
            code = str(response.json().get("Code") or response.json().get("ResultCode") or "")
        except (ValueError, AttributeError):
            code = ""
        if response.status_code != 200 or code not in ("0000", "0"):
            raise PermanentError(
                f"YunExpress answered {response.status_code}: {response.text[:200]}"
            )
        return "Signed in to YunExpress (country list answered)."

    def _get(self, path: str, params: dict) -> httpx.Response:
        code = self.credentials.get("customer_code")
        secret = self.credentials.get("api_secret")
        if not code or not secret:
            raise PermanentError("YunExpress connection has no customer_code / api_secret")
        request = self.http.build_request(
            "GET",
            self.base + path,
            params=params,
            headers={
                "Authorization": authorization(code, secret),
                "Accept": "application/json",
                "Accept-Language": "en-us",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"YunExpress refuses the customer code / secret ({response.status_code})"
            )
        return response


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = YunExpressClient
