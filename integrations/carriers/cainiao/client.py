"""Cainiao Link gateway tracking query over HTTP, and nothing else.

Cainiao Link takes every message as a form POST to one gateway:
``msg_type`` names the API, ``logistic_provider_id`` the caller (its
resource code), ``logistics_interface`` carries the JSON request and
``data_digest`` signs it: the Base64 of the MD5 of ``logistics_interface +
secret key``. ``to_code`` routes the message to the Cainiao system that
answers it. The answer is the global tracking JSON (``module[]``).

Credentials (the Connection's): ``logistic_provider_id``, ``secret_key``,
optional ``to_code`` and ``sandbox`` (yes: the pre-release gateway)."""

from __future__ import annotations

import base64
import hashlib
import json

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://link.cainiao.com/gateway/link.do"
SANDBOX = "https://prelink.cainiao.com/gateway/link.do"
MSG_TYPE = "CN_OVERSEA_LOGISTICS_INQUIRY_TRACKING"
DEFAULT_TO_CODE = "CNL_EU"


def data_digest(content: str, secret_key: str) -> str:
    """Cainiao Link's signature: Base64(MD5(logistics_interface + secret key))."""
    return base64.b64encode(
        hashlib.md5((content + secret_key).encode(), usedforsecurity=False).digest()
    ).decode()


class CainiaoClient(HttpClient):
    carrier = "cainiao"
    # Cainiao sets per-app quotas in the Link console without publishing
    # them; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField(
            "logistic_provider_id", "Resource code", "logistic_provider_id in Cainiao Link"
        ),
        CredentialField("secret_key", "Secret key", secret=True),
        CredentialField(
            "to_code",
            "Receiver code",
            f"to_code; {DEFAULT_TO_CODE} unless Cainiao gave another",
            required=False,
        ),
        CredentialField(
            "sandbox", "Pre-release", "Type yes to use the pre-release gateway", required=False
        ),
    )

    @property
    def url(self) -> str:
        return SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        provider_id = self.credentials.get("logistic_provider_id")
        secret = self.credentials.get("secret_key")
        if not provider_id or not secret:
            raise PermanentError("Cainiao connection has no logistic_provider_id / secret_key")
        content = json.dumps(
            {"mailNo": tracking_number.strip(), "locale": "en_US"}, separators=(",", ":")
        )
        request = self.http.build_request(
            "POST",
            self.url,
            data={
                "msg_type": MSG_TYPE,
                "logistic_provider_id": provider_id,
                "logistics_interface": content,
                "data_digest": data_digest(content, secret),
                "to_code": self.credentials.get("to_code") or DEFAULT_TO_CODE,
            },
            headers={"Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"Cainiao refuses the resource code ({response.status_code})")
        return self.parse(response)


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = CainiaoClient
