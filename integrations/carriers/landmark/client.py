"""Landmark Global tracking API (v2, XML) over HTTP, and nothing else.

Authentication is inside the request: every ``TrackRequest`` carries a
``Login`` (API username and password) and the account's ``ClientID``. Test
calls go to the same host with ``<Test>true</Test>``. ``track`` posts one
tracking number to ``Track.php`` asking for the full history
(``RetrievalType`` Historical); the mapping reads the ``TrackResponse``.
Landmark answers refused credentials with HTTP 200, ``Success`` false and
an error coded ``Login``.

Credentials (the Connection's): ``username``, ``password``, ``client_id``,
optional ``sandbox`` (true: test calls)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.payloads import MalformedPayload, load_xml, text
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

URL = "https://api.landmarkglobal.com/v2/Track.php"


class LandmarkClient(HttpClient):
    carrier = "landmark"
    # Landmark publishes no request ceiling; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("username", "API username"),
        CredentialField("password", "API password", secret=True),
        CredentialField("client_id", "Client id", "Your Landmark ClientID"),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        creds = self.credentials
        if not all(creds.get(name) for name in ("username", "password", "client_id")):
            raise PermanentError("Landmark connection needs username, password and client id")
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><TrackRequest>'
            f"<Login><Username>{escape(creds['username'])}</Username>"
            f"<Password>{escape(creds['password'])}</Password></Login>"
            f"<Test>{'true' if creds.get('sandbox') else 'false'}</Test>"
            f"<ClientID>{escape(str(creds['client_id']))}</ClientID>"
            f"<TrackingNumber>{escape(tracking_number.strip())}</TrackingNumber>"
            "<RetrievalType>Historical</RetrievalType>"
            "</TrackRequest>"
        )
        request = self.http.build_request(
            "POST", URL, content=xml.encode(), headers={"Content-Type": "application/xml"}
        )
        response = self.send(request)
        refusal = _login_error(response.content)
        if response.status_code in (401, 403) or refusal:
            raise PermanentError(
                f"Landmark refuses the login ({response.status_code}): {refusal or response.reason_phrase}"
            )
        return self.parse(response)


def _login_error(content: bytes) -> str:
    try:
        root = load_xml(content)
    except MalformedPayload:
        return ""
    for error in root.iter("Error"):
        if text(error, "ErrorCode") == "Login":
            return text(error, "ErrorMessage") or "login refused"
    return ""


CLIENT = LandmarkClient
