"""La Poste Suivi v2 over HTTP, and nothing else; Colissimo shares it.

Authentication is the application's key from the Okapi developer portal,
sent as ``X-Okapi-Key``. ``track`` asks ``GET /suivi/v2/idships/{id}``,
which answers for La Poste letters, Colissimo parcels and Chronopost
shipments alike; the mapping reads its ``shipment`` document (and its
``returnCode``/``returnMessage`` for unknown or invalid numbers).

Credentials (the Connection's): ``api_key``, optional ``language``
(``fr_FR`` or ``en_US``)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

BASE = "https://api.laposte.fr/suivi/v2"
LANGUAGES = ("fr_FR", "en_US")


class LaPosteClient(HttpClient):
    carrier = "laposte"
    # Okapi's Suivi v2 plan allows 10 calls per second per application key
    # (developer.laposte.fr catalogue, quotaLimiter); 429 beyond it.
    requests_per_second = 10.0
    credential_fields = (
        CredentialField("api_key", "Okapi key", "X-Okapi-Key of your application", secret=True),
        CredentialField("language", "Language", "fr_FR or en_US (default fr_FR)", required=False),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("api_key")
        if not key:
            raise PermanentError("La Poste connection has no api_key")
        language = self.credentials.get("language")
        request = self.http.build_request(
            "GET",
            f"{BASE}/idships/{quote(tracking_number.strip(), safe='')}",
            params={"lang": language if language in LANGUAGES else LANGUAGES[0]},
            headers={"X-Okapi-Key": key, "Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(
                f"La Poste refuses the Okapi key ({response.status_code}): {_error_message(response)}"
            )
        return self.parse(response)


def _error_message(response: httpx.Response) -> str:
    # The Okapi gateway answers {"code": "UNAUTHORIZED", "message": ...}.
    try:
        body = response.json()
        return str(body.get("message") or body.get("returnMessage") or body.get("code"))
    except (ValueError, AttributeError):
        return response.reason_phrase


CLIENT = LaPosteClient
