"""Purolator Tracking web service (SOAP 1.1) over HTTP, and nothing else.

Authentication is HTTP Basic with the activation key and password
Purolator issues (development and production keys differ). The call is
``TrackPackagesByPin`` on ``/PWS/V1/Tracking/TrackingService.asmx``: a SOAP
envelope whose ``RequestContext`` header names the service version and
language, and whose body lists the PIN. The answer is the
``TrackPackagesByPinResponse`` the mapping reads.

Credentials (the Connection's): ``key``, ``password``, optional
``user_token`` (for accounts Purolator gave one), optional ``sandbox``
(Purolator's development web services)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.auth import SANDBOX_FIELD, basic_auth, is_sandbox
from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://webservices.purolator.com"
SANDBOX = "https://devwebservices.purolator.com"
PATH = "/PWS/V1/Tracking/TrackingService.asmx"
SOAP_ACTION = "http://purolator.com/pws/service/v1/TrackPackagesByPin"
SERVICE_VERSION = "1.2"

ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" \
xmlns:v1="http://purolator.com/pws/datatypes/v1">
<soap:Header><v1:RequestContext>
<v1:Version>{version}</v1:Version><v1:Language>en</v1:Language>
<v1:GroupID></v1:GroupID><v1:RequestReference>tracking</v1:RequestReference>
<v1:UserToken>{user_token}</v1:UserToken>
</v1:RequestContext></soap:Header>
<soap:Body><v1:TrackPackagesByPinRequest><v1:PINs><v1:PIN>
<v1:Value>{pin}</v1:Value>
</v1:PIN></v1:PINs></v1:TrackPackagesByPinRequest></soap:Body>
</soap:Envelope>"""


class PurolatorClient(HttpClient):
    carrier = "purolator"
    # Purolator publishes no request ceiling for its web services; stay conservative.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("key", "Activation key", "Purolator E-Ship Web Services key"),
        CredentialField("password", "Key password", secret=True),
        CredentialField("user_token", "User token", required=False, secret=True),
        SANDBOX_FIELD,
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("key")
        password = self.credentials.get("password")
        if not key or not password:
            raise PermanentError("Purolator connection has no activation key / password")
        base = SANDBOX if is_sandbox(self.credentials) else PRODUCTION
        body = ENVELOPE.format(
            version=SERVICE_VERSION,
            user_token=escape(self.credentials.get("user_token") or ""),
            pin=escape(tracking_number.strip()),
        )
        request = self.http.build_request(
            "POST",
            base + PATH,
            content=body.encode(),
            headers={
                "Authorization": basic_auth(key, password),
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{SOAP_ACTION}"',
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"Purolator refuses the activation key ({response.status_code})")
        return self.parse(response)


CLIENT = PurolatorClient
