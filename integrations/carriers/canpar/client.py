"""Canpar tracking web service (SOAP 1.2) over HTTP, and nothing else.

Canpar's ``trackByBarcode`` operation on the Canship add-ons service takes
no credentials: the barcode alone is the request, so a connection only
chooses the environment. The answer is the ``trackByBarcodeResponse`` the
mapping reads; an unknown barcode comes back in its ``error`` element.

Credentials (the Connection's): optional ``sandbox`` (Canpar's sandbox)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.auth import SANDBOX_FIELD, is_sandbox
from integrations.carriers.client import HttpClient
from integrations.carriers.schema import TrackingResult

PRODUCTION = "https://canship.canpar.com/canshipws/services"
SANDBOX = "https://sandbox.canpar.com/canshipws/services"
PATH = "/CanparAddonsService.CanparAddonsServiceHttpSoap12Endpoint/"
ACTION = "urn:trackByBarcode"

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" \
xmlns:ws="http://ws.canparaddons.canpar.com" xmlns:xsd="http://ws.dto.canshipws.canpar.com/xsd">
<soap:Header/>
<soap:Body><ws:trackByBarcode><ws:request>
<xsd:barcode>{barcode}</xsd:barcode>
<xsd:track_shipment>true</xsd:track_shipment>
</ws:request></ws:trackByBarcode></soap:Body>
</soap:Envelope>"""


class CanparClient(HttpClient):
    carrier = "canpar"
    # Canpar publishes no request ceiling for its web services; stay conservative.
    requests_per_second = 2.0
    credential_fields = (SANDBOX_FIELD,)

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        base = SANDBOX if is_sandbox(self.credentials) else PRODUCTION
        request = self.http.build_request(
            "POST",
            base + PATH,
            content=ENVELOPE.format(barcode=escape(tracking_number.strip())).encode(),
            # SOAP 1.2 carries the action in the content type, not a SOAPAction header.
            headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{ACTION}"'},
        )
        return self.parse(self.send(request))


CLIENT = CanparClient
