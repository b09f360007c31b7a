"""Aramex Shipments Tracking API (SOAP) over HTTP, and nothing else.

There is no token: every ``TrackShipments`` call carries the account's
``ClientInfo`` (user name, password, account number, PIN, entity and
country code) inside the SOAP body. Aramex answers refused credentials with
HTTP 200 and a ``ClientInfo - ...`` notification, which we raise as a
permanent error rather than record as a tracking result.

Credentials (the Connection's): ``username``, ``password``,
``account_number``, ``account_pin``, ``account_entity``,
``account_country_code``, optional ``sandbox`` (yes: Aramex's test host)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://ws.aramex.net"
SANDBOX = "https://ws.sbx.aramex.net"
PATH = "/ShippingAPI.V2/Tracking/Service_1_0.svc"
SOAP_ACTION = "http://ws.aramex.net/ShippingAPI/v1/Service_1_0/TrackShipments"
API_VERSION = "v1.0"
# ClientInfo members in the order of Aramex's sample requests (its WCF
# service reads them in that order).
CLIENT_INFO = (
    ("AccountCountryCode", "account_country_code"),
    ("AccountEntity", "account_entity"),
    ("AccountNumber", "account_number"),
    ("AccountPin", "account_pin"),
    ("Password", "password"),
    ("UserName", "username"),
)


class AramexClient(HttpClient):
    carrier = "aramex"
    # Aramex publishes no rate limit for the tracking service; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "User name", "The e-mail address of the API user"),
        CredentialField("password", "Password", secret=True),
        CredentialField("account_number", "Account number"),
        CredentialField("account_pin", "Account PIN", secret=True),
        CredentialField("account_entity", "Account entity", "Three letters, e.g. DXB or AMM"),
        CredentialField("account_country_code", "Account country code", "Two letters, e.g. AE"),
        CredentialField(
            "sandbox", "Test environment", "Type yes to use Aramex's test host", required=False
        ),
    )

    @property
    def url(self) -> str:
        return (SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION) + PATH

    def envelope(self, tracking_number: str) -> str:
        missing = [key for _, key in CLIENT_INFO if not self.credentials.get(key)]
        if missing:
            raise PermanentError(f"Aramex connection is missing {', '.join(missing)}")
        info = "".join(
            f"<v1:{tag}>{escape(str(self.credentials[key]))}</v1:{tag}>" for tag, key in CLIENT_INFO
        )
        info += f"<v1:Version>{API_VERSION}</v1:Version>"
        return (
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns:v1="http://ws.aramex.net/ShippingAPI/v1/"'
            ' xmlns:arr="http://schemas.microsoft.com/2003/10/Serialization/Arrays">'
            "<soapenv:Header/><soapenv:Body><v1:ShipmentTrackingRequest>"
            f"<v1:ClientInfo>{info}</v1:ClientInfo>"
            "<v1:Transaction><v1:Reference1/></v1:Transaction>"
            f"<v1:Shipments><arr:string>{escape(tracking_number.strip())}</arr:string></v1:Shipments>"
            "<v1:GetLastTrackingUpdateOnly>false</v1:GetLastTrackingUpdateOnly>"
            "</v1:ShipmentTrackingRequest></soapenv:Body></soapenv:Envelope>"
        )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        request = self.http.build_request(
            "POST",
            self.url,
            content=self.envelope(tracking_number).encode(),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": SOAP_ACTION,
                "Accept": "text/xml",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"Aramex refuses the connection ({response.status_code})")
        result = self.parse(response)
        if result.outcome == "error" and result.message.startswith("ClientInfo"):
            # ERR01 "ClientInfo - Invalid username or password" and its kin:
            # the account details are wrong, not the shipment.
            raise PermanentError(f"Aramex refuses the account details: {result.message}")
        return result


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = AramexClient
