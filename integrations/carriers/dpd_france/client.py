"""DPD France tracking over cargoNET's Webtrace SOAP service, and nothing else.

Authentication is a ``UserCredentials`` SOAP header (user id and password
issued by DPD France) on every call, and the calling server's IP address
must be whitelisted by cargoNET: calls from elsewhere are answered
``IpPermissionDenied``. ``track`` calls ``GetShipmentTrace`` for one
shipment number of the account's customer (country code 250, centre
number, customer number); the mapping reads ``GetShipmentTraceResult``.

Credentials (the Connection's): ``userid``, ``password``,
``center_number``, ``customer_number``, optional ``sandbox`` (true:
cargoNET's test environment)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.client import PermanentError
from integrations.carriers.dpd.client import SoapClient
from integrations.carriers.payloads import MalformedPayload, load_xml, text
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://webtrace.dpd.fr/trace-service/Webtrace_Service.asmx"
SANDBOX = "https://e-station-testenv.cargonet.software/trace-service/Webtrace_Service.asmx"
NS = "http://www.cargonet.software/"
# ISO 3166 numeric code for France: DPD France identifies its customers by it.
FRANCE = "250"
# cargoNET's answer to a server whose IP is not whitelisted: a setup problem
# that retrying will not fix.
REFUSALS = {"IpPermissionDenied"}


class DpdFranceClient(SoapClient):
    carrier = "dpd_france"
    # cargoNET publishes no request ceiling for Webtrace; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("userid", "User id", "Issued by DPD France for the web services"),
        CredentialField("password", "Password", secret=True),
        CredentialField("center_number", "Centre number", "Your DPD France depot number"),
        CredentialField("customer_number", "Customer number"),
    )

    @property
    def url(self) -> str:
        return SANDBOX if self.credentials.get("sandbox") else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        creds = self.credentials
        if not creds.get("userid") or not creds.get("password"):
            raise PermanentError("DPD France connection has no userid / password")
        body = (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:imt="{NS}">'
            "<soapenv:Header><imt:UserCredentials>"
            f"<imt:userid>{escape(creds['userid'])}</imt:userid>"
            f"<imt:password>{escape(creds['password'])}</imt:password>"
            "</imt:UserCredentials></soapenv:Header>"
            "<soapenv:Body><imt:GetShipmentTrace><imt:request>"
            "<imt:Customer>"
            f"<imt:countrycode>{FRANCE}</imt:countrycode>"
            f"<imt:centernumber>{escape(str(creds.get('center_number', '')))}</imt:centernumber>"
            f"<imt:number>{escape(str(creds.get('customer_number', '')))}</imt:number>"
            "</imt:Customer>"
            "<imt:Language>EN</imt:Language>"
            f"<imt:ShipmentNumber>{escape(tracking_number.strip())}</imt:ShipmentNumber>"
            "</imt:request></imt:GetShipmentTrace></soapenv:Body></soapenv:Envelope>"
        )
        request = self.http.build_request(
            "POST",
            self.url,
            content=body.encode(),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f"{NS}GetShipmentTrace",
            },
        )
        response = self.send(request)
        refusal = _refusal(response.content)
        if response.status_code in (401, 403) or refusal:
            raise PermanentError(
                f"DPD France refuses the connection ({response.status_code}): "
                f"{refusal or response.reason_phrase}"
            )
        return self.parse(response)


def _refusal(content: bytes) -> str:
    if b"Error" not in content:
        return ""
    try:
        root = load_xml(content)
    except MalformedPayload:
        return ""
    code = text(root, ".//ErrorId")
    if code in REFUSALS:
        return f"{code}: {text(root, './/ErrorMessage')}"
    return ""


CLIENT = DpdFranceClient
