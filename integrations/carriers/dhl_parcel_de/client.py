"""DHL Parcel DE Tracking (Post & Parcel Germany) over HTTP, and nothing else.

Two layers of credentials: the developer-portal app's API key and secret
(HTTP Basic, and the key again as ``DHL-API-Key``) let us through DHL's
gateway; the business customer's tracking login (``appname``, the ZT
token, and its ``password``) goes inside the request itself, an XML
``<data request="d-get-piece-detail" …/>`` element passed in the ``xml``
query parameter. The answer is the ``piece-shipment-list`` XML the mapping
reads. A refused tracking login is not an HTTP error: DHL answers 200 with
``code="5"`` ("Log-in failed") on the list.

Credentials (the Connection's): ``api_key``, ``api_secret``, ``appname``,
``password``, optional ``sandbox`` (DHL's sandbox, which only takes its
published test login)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrations.carriers.auth import SANDBOX_FIELD, basic_auth, is_sandbox
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://api-eu.dhl.com/parcel/de/tracking/v0/shipments"
SANDBOX = "https://api-sandbox.dhl.com/parcel/de/tracking/v0/shipments"
# The sandbox accepts only the test login from DHL's documentation.
SANDBOX_LOGIN = ("zt12345", "geheim")
LOGIN_FAILED = "5"


class DhlParcelDeClient(HttpClient):
    carrier = "dhl_parcel_de"
    # DHL does not publish a per-second ceiling for this API; stay conservative.
    requests_per_second = 1.0
    credential_fields = (
        CredentialField("api_key", "API key", "Developer portal app key"),
        CredentialField("api_secret", "API secret", secret=True),
        CredentialField("appname", "Tracking user (ZT token)", "From the business customer portal"),
        CredentialField("password", "Tracking password", secret=True),
        SANDBOX_FIELD,
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        secret = self.credentials.get("api_secret")
        if not key or not secret:
            raise PermanentError("DHL Parcel DE connection has no API key / secret")
        sandbox = is_sandbox(self.credentials)
        if sandbox:
            appname, password = SANDBOX_LOGIN
        else:
            appname = self.credentials.get("appname") or ""
            password = self.credentials.get("password") or ""
        if not appname or not password:
            raise PermanentError("DHL Parcel DE connection has no tracking user / password")
        request = self.http.build_request(
            "GET",
            SANDBOX if sandbox else PRODUCTION,
            params={"xml": piece_detail_request(tracking_number.strip(), appname, password)},
            headers={
                "Authorization": basic_auth(key, secret),
                "DHL-API-Key": key,
                "Accept": "application/xml",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"DHL Parcel DE refuses the API key ({response.status_code})")
        result = self.parse(response)
        if result.outcome == "error" and result.error_code == LOGIN_FAILED:
            raise PermanentError(f"DHL Parcel DE refuses the tracking login: {result.message}")
        return result


def piece_detail_request(number: str, appname: str, password: str) -> str:
    """The ``xml`` parameter: one ``data`` element, attributes escaped by ElementTree."""
    data = ET.Element(
        "data",
        {
            "appname": appname,
            "password": password,
            "request": "d-get-piece-detail",
            "language-code": "en",
            "piece-code": number,
        },
    )
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(data, encoding="unicode")


CLIENT = DhlParcelDeClient
