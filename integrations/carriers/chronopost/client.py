"""Chronopost tracking over its SOAP TrackingServiceWS, and nothing else.

``trackSkybillV2`` is Chronopost's public tracking operation: it takes a
language and a skybill (waybill) number and needs no account credentials,
so a connection only chooses the language of the event labels. An answer
with a non-zero ``errorCode`` is read by the mapping as an error result.

Credentials (the Connection's): optional ``language`` (``en_GB`` or
``fr_FR``)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.dpd.client import SoapClient
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

URL = "https://ws.chronopost.fr/tracking-cxf/TrackingServiceWS"
NS = "http://cxf.tracking.soap.chronopost.fr/"
LANGUAGES = ("en_GB", "fr_FR")


class ChronopostClient(SoapClient):
    carrier = "chronopost"
    # Chronopost publishes no request ceiling for its tracking service; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField(
            "language",
            "Language",
            "en_GB or fr_FR for event labels (default en_GB)",
            required=False,
        ),
    )

    @property
    def language(self) -> str:
        language = self.credentials.get("language") or ""
        return language if language in LANGUAGES else LANGUAGES[0]

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        body = (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:cxf="{NS}">'
            "<soapenv:Header/><soapenv:Body><cxf:trackSkybillV2>"
            f"<language>{self.language}</language>"
            f"<skybillNumber>{escape(tracking_number.strip())}</skybillNumber>"
            "</cxf:trackSkybillV2></soapenv:Body></soapenv:Envelope>"
        )
        request = self.http.build_request(
            "POST",
            URL,
            content=body.encode(),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""},
        )
        return self.parse(self.send(request))


CLIENT = ChronopostClient
