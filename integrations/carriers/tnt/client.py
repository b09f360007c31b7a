"""TNT ExpressConnect tracking over HTTP, and nothing else.

Authentication is HTTP Basic with the ExpressConnect user id and password.
``track`` posts a ``TrackRequest`` (version 3.1) searching one consignment
number, form-encoded as ``xml_in`` as ExpressConnect expects, asking for
the complete level of detail; the mapping reads the ``TrackResponse``.
ExpressConnect answers refused credentials with HTTP 200 and error code
9000 ("Unauthorized Access") in the body.

Credentials (the Connection's): ``username``, ``password``, optional
``origin_country`` (the account's ISO country code, default GB)."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.payloads import MalformedPayload, load_xml, text
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

URL = "https://express.tnt.com/expressconnect/track.do"
UNAUTHORIZED = "9000"


class TntClient(HttpClient):
    carrier = "tnt"
    # TNT publishes no request ceiling for ExpressConnect tracking; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "ExpressConnect user id"),
        CredentialField("password", "Password", secret=True),
        CredentialField(
            "origin_country", "Account country", "ISO code, e.g. GB (default)", required=False
        ),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        user = self.credentials.get("username")
        password = self.credentials.get("password")
        if not user or not password:
            raise PermanentError("TNT connection has no username / password")
        country = (self.credentials.get("origin_country") or "GB").upper()
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<TrackRequest locale="en_US" version="3.1">'
            f'<SearchCriteria marketType="INTERNATIONAL" originCountry={quoteattr(country)}>'
            f"<ConsignmentNumber>{escape(tracking_number.strip())}</ConsignmentNumber>"
            "</SearchCriteria>"
            '<LevelOfDetail><Complete originAddress="true" destinationAddress="true"/>'
            "</LevelOfDetail></TrackRequest>"
        )
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        request = self.http.build_request(
            "POST", URL, data={"xml_in": xml}, headers={"Authorization": f"Basic {basic}"}
        )
        response = self.send(request)
        refused = (
            response.status_code in (401, 403) or _error_code(response.content) == UNAUTHORIZED
        )
        if refused:
            raise PermanentError(f"TNT refuses the ExpressConnect login ({response.status_code})")
        return self.parse(response)


def _error_code(content: bytes) -> str:
    try:
        return text(load_xml(content), "Error/Code")
    except MalformedPayload:
        return ""


CLIENT = TntClient
