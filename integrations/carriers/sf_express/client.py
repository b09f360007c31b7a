"""SF Express open platform (丰桥) route query over HTTP, and nothing else.

Every call is a form POST to one gateway naming the service
(``EXP_RECE_SEARCH_ROUTES``) and signed: ``msgDigest`` is the Base64 of the
MD5 of the URL-encoded ``msgData + timestamp + checkWord``. The gateway
wraps the service's answer as a JSON string in ``apiResultData``; its own
``apiResultCode`` says whether the call got through (A1000) or why not.

Credentials (the Connection's): ``partner_id`` (顾客编码), ``check_word``
(校验码), optional ``sandbox`` (yes: the sandbox gateway)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from urllib.parse import quote_plus

import httpx

from integrations.carriers import registry
from integrations.carriers.client import HttpClient, PermanentError, TransientError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://sfapi.sf-express.com/std/service"
SANDBOX = "https://sfapi-sbox.sf-express.com/std/service"
SERVICE = "EXP_RECE_SEARCH_ROUTES"
# Gateway refusals that no retry fixes: missing parameters, IP not allowed,
# no permission for the service, bad digest.
REFUSED = {"A1001", "A1003", "A1004", "A1006"}
# A1005: the gateway's flow control (限流) is throttling the partner.
THROTTLED = "A1005"


def digest(msg_data: str, timestamp: str, check_word: str) -> str:
    """SF's msgDigest: Base64(MD5(urlencode(msgData + timestamp + checkWord)))."""
    encoded = quote_plus(msg_data + timestamp + check_word, encoding="utf-8")
    return base64.b64encode(
        hashlib.md5(encoded.encode("utf-8"), usedforsecurity=False).digest()
    ).decode()


class SfExpressClient(HttpClient):
    carrier = "sf_express"
    # SF sets flow-control quotas per partner and service without publishing
    # them (A1005 when exceeded); stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("partner_id", "Partner ID", "顾客编码 from the SF open platform"),
        CredentialField("check_word", "Check word", "校验码", secret=True),
        CredentialField(
            "sandbox", "Sandbox", "Type yes to use the sandbox gateway", required=False
        ),
    )

    @property
    def url(self) -> str:
        return SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        partner = self.credentials.get("partner_id")
        check_word = self.credentials.get("check_word")
        if not partner or not check_word:
            raise PermanentError("SF Express connection has no partner_id / check_word")
        msg_data = json.dumps(
            {
                "language": "1",  # English remarks
                "trackingType": "1",  # look up by waybill number
                "trackingNumber": [tracking_number.strip()],
                "methodType": "1",  # the standard route query
            },
            separators=(",", ":"),
        )
        timestamp = str(int(time.time() * 1000))
        request = self.http.build_request(
            "POST",
            self.url,
            data={
                "partnerID": partner,
                "requestID": str(uuid.uuid4()),
                "serviceCode": SERVICE,
                "timestamp": timestamp,
                "msgDigest": digest(msg_data, timestamp, check_word),
                "msgData": msg_data,
            },
            headers={"Accept": "application/json"},
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"SF Express refuses the partner ({response.status_code})")
        return self._unwrap(response)

    def _unwrap(self, response: httpx.Response) -> TrackingResult:
        try:
            envelope = response.json()
            code = str(envelope.get("apiResultCode") or "")
        except (ValueError, AttributeError):
            return self.parse(response)
        message = f"{code}: {envelope.get('apiErrorMsg') or 'no message'}"
        if code in REFUSED:
            raise PermanentError(f"SF Express refuses the call ({message})")
        if code == THROTTLED:
            raise TransientError(f"SF Express flow control ({message})")
        if code != "A1000" or not envelope.get("apiResultData"):
            # A1002 expired, A1007 replayed, A1009/A1099 service trouble.
            raise TransientError(f"SF Express gateway ({message})")
        return registry.parse(self.carrier, envelope["apiResultData"])


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = SfExpressClient
