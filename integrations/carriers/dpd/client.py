"""DPD Web Services (SOAP) tracking, and nothing else.

Authentication is DPD's two-step login: ``LoginService.getAuth`` trades the
account's DELIS id and password for an ``authToken`` (valid about a day, its
expiry in ``authTokenExpires``), which every other call carries in an
``authentication`` SOAP header. The token is cached for every worker until
half an hour before it expires and fetched again, once, when DPD answers a
call with an authentication fault anyway. ``track`` calls
``ParcelLifeCycleService.getTrackingData`` for one parcel label number; the
mapping reads its ``trackingresult``.

DPD faults arrive as SOAP 1.1 faults, that is with HTTP 500: they are DPD's
answer, not an outage, so this client reads them instead of retrying.

Credentials (the Connection's): ``delis_id``, ``password``, optional
``country`` (``BE`` or ``NL``: whose DPD Shipper web services), optional
``language`` and ``sandbox`` (true: DPD's test system)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import httpx
from django.core.cache import cache

from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.payloads import MalformedPayload, load_xml, text
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

HOSTS = {
    ("BE", False): "https://wsshipper.dpd.be",
    ("BE", True): "https://shipperadmintest.dpd.be/PublicApi",
    ("NL", False): "https://wsshipper.dpd.nl",
    ("NL", True): "https://shipperadmintest.dpd.nl/PublicApi",
}
LOGIN_PATH = "/soap/services/LoginService/V2_1"
TRACKING_PATH = "/soap/services/ParcelLifeCycleService/V2_0"
LOGIN_NS = "http://dpd.com/common/service/types/LoginService/2.1"
AUTH_NS = "http://dpd.com/common/service/types/Authentication/2.0"
TRACKING_NS = "http://dpd.com/common/service/types/ParcelLifeCycleService/2.0"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
DEFAULT_LANGUAGE = "en_EN"
# When authTokenExpires is missing or unreadable: DPD documents a day.
DEFAULT_LIFETIME = 12 * 3600


class SoapClient(HttpClient):
    """An ``HttpClient`` for SOAP 1.1 services, which send their faults with HTTP 500.

    A fault (a refused login, an unknown parcel) is the carrier's answer, not
    an outage: it is returned for the client to read. Only a 500 without a
    fault, or another 5xx, is the carrier being down."""

    def is_answer(self, response: httpx.Response) -> bool:
        return response.status_code == 500 and b"Fault>" in response.content


class DpdClient(SoapClient):
    carrier = "dpd"
    # DPD publishes no request ceiling for its web services; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("delis_id", "DELIS id", "Your DPD web services user"),
        CredentialField("password", "Password", secret=True),
        CredentialField("country", "Country", "BE or NL (default BE)", required=False),
        CredentialField("language", "Language", "e.g. en_EN, nl_NL, fr_FR", required=False),
    )

    @property
    def base(self) -> str:
        country = (self.credentials.get("country") or "BE").strip().upper()
        key = (country, bool(self.credentials.get("sandbox")))
        if key not in HOSTS:
            raise PermanentError(f"DPD connection: unsupported country {country!r} (BE or NL)")
        return HOSTS[key]

    @property
    def language(self) -> str:
        return self.credentials.get("language") or DEFAULT_LANGUAGE

    @property
    def _token_key(self) -> str:
        delis_id = self.credentials.get("delis_id", "")
        digest = hashlib.sha256(f"{self.base}|{delis_id}".encode()).hexdigest()[:24]
        return f"carriers:dpd:token:{digest}"

    def token(self, *, fresh: bool = False) -> str:
        if not fresh:
            cached = cache.get(self._token_key)
            if cached:
                return cached
        delis_id = self.credentials.get("delis_id")
        password = self.credentials.get("password")
        if not delis_id or not password:
            raise PermanentError("DPD connection has no delis_id / password")
        body = (
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="{LOGIN_NS}">'
            "<soapenv:Header/><soapenv:Body><ns:getAuth>"
            f"<delisId>{escape(delis_id)}</delisId>"
            f"<password>{escape(password)}</password>"
            f"<messageLanguage>{escape(self.language)}</messageLanguage>"
            "</ns:getAuth></soapenv:Body></soapenv:Envelope>"
        )
        response = self.send(self._soap(LOGIN_PATH, f"{LOGIN_NS}/getAuth", body))
        fault = _fault(response)
        if fault:
            raise PermanentError(f"DPD refused the login: {fault}")
        try:
            root = load_xml(response.content)
        except MalformedPayload:
            raise TransientError(f"DPD login answer unreadable ({response.status_code})") from None
        token = text(root.find(".//return"), "authToken")
        if not token:
            raise TransientError(f"DPD login answer has no authToken ({response.status_code})")
        lifetime = _seconds_until(text(root.find(".//return"), "authTokenExpires"))
        # Renew half an hour early so a poll never carries a token expiring mid-flight.
        cache.set(self._token_key, token, timeout=max(60, lifetime - 1800))
        return token

    def check(self) -> str:
        self.token(fresh=True)
        return "Signed in to DPD web services (LoginService)."

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        number = tracking_number.strip()
        response = self._track(number, self.token())
        if _is_auth_fault(response):
            # Expired or revoked before our cache thought so: one fresh token.
            response = self._track(number, self.token(fresh=True))
            if _is_auth_fault(response):
                raise PermanentError(f"DPD rejects our token: {_fault(response)}")
        return self.parse(response)

    def _track(self, number: str, token: str) -> httpx.Response:
        delis_id = self.credentials.get("delis_id", "")
        body = (
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:ns="{AUTH_NS}" '
            f'xmlns:ns1="{TRACKING_NS}">'
            "<soapenv:Header><ns:authentication>"
            f"<delisId>{escape(delis_id)}</delisId>"
            f"<authToken>{escape(token)}</authToken>"
            f"<messageLanguage>{escape(self.language)}</messageLanguage>"
            "</ns:authentication></soapenv:Header>"
            "<soapenv:Body><ns1:getTrackingData>"
            f"<parcelLabelNumber>{escape(number)}</parcelLabelNumber>"
            "</ns1:getTrackingData></soapenv:Body></soapenv:Envelope>"
        )
        return self.send(self._soap(TRACKING_PATH, f"{TRACKING_NS}/getTrackingData", body))

    def _soap(self, path: str, action: str, body: str) -> httpx.Request:
        return self.http.build_request(
            "POST",
            self.base + path,
            content=body.encode(),
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action},
        )


def _fault(response: httpx.Response) -> str:
    """The fault's own words ("Authentication failure, ..."), or '' for no fault."""
    if b"Fault>" not in response.content:
        return ""
    try:
        root = load_xml(response.content)
    except MalformedPayload:
        return response.reason_phrase
    return text(root, ".//errorMessage") or text(root, ".//faultstring") or "SOAP fault"


def _is_auth_fault(response: httpx.Response) -> bool:
    return b"authenticationFault" in response.content


def _seconds_until(stamp: str) -> int:
    try:
        expires = datetime.fromisoformat(stamp)
    except ValueError:
        return DEFAULT_LIFETIME
    if expires.tzinfo is None:
        # DPD writes local time without an offset. Read as UTC it may run an
        # hour or two long; a token refused before then is renewed anyway.
        expires = expires.replace(tzinfo=UTC)
    return int((expires - datetime.now(UTC)).total_seconds())


CLIENT = DpdClient
