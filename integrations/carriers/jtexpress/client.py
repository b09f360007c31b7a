"""J&T Express open platform trace query over HTTP, and nothing else.

Every call is a form POST of ``bizContent`` (a JSON string) with three
headers: ``apiAccount``, ``timestamp`` (milliseconds) and ``digest``, the
Base64 of the MD5 of ``bizContent + privateKey``. Each country runs its own
platform; the default host is Malaysia's, the one the trace format follows.
Gateway refusals (codes 1450030xx: bad digest, unknown account, no
permission) come back as HTTP 200, and we raise them as permanent errors.

Credentials (the Connection's): ``api_account``, ``private_key``, optional
``api_host`` (another country's platform) and ``sandbox`` (yes: the demo
host)."""

from __future__ import annotations

import base64
import hashlib
import json
import time

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

PRODUCTION = "https://ylopenapi.jtexpress.my"
SANDBOX = "https://demoopenapi.jtexpress.my"
PATH = "/webopenplatformapi/api/logistics/trace"
GATEWAY_REFUSAL = "1450030"


def digest(biz_content: str, private_key: str) -> str:
    """J&T's header digest: Base64(MD5(bizContent + privateKey))."""
    return base64.b64encode(
        hashlib.md5((biz_content + private_key).encode(), usedforsecurity=False).digest()
    ).decode()


class JtExpressClient(HttpClient):
    carrier = "jtexpress"
    # The open platform publishes no rate limit; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("api_account", "API account"),
        CredentialField("private_key", "Private key", secret=True),
        CredentialField(
            "api_host",
            "Platform address",
            "Only for a country other than Malaysia, e.g. https://openapi.jtexpress.com.cn",
            required=False,
        ),
        CredentialField(
            "sandbox", "Demo environment", "Type yes to use the demo host", required=False
        ),
    )

    @property
    def url(self) -> str:
        host = (self.credentials.get("api_host") or "").rstrip("/")
        if not host:
            host = SANDBOX if _is_yes(self.credentials.get("sandbox")) else PRODUCTION
        return host + PATH

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        account = self.credentials.get("api_account")
        key = self.credentials.get("private_key")
        if not account or not key:
            raise PermanentError("J&T Express connection has no api_account / private_key")
        biz_content = json.dumps({"billCodes": tracking_number.strip()}, separators=(",", ":"))
        request = self.http.build_request(
            "POST",
            self.url,
            data={"bizContent": biz_content},
            headers={
                "apiAccount": account,
                "digest": digest(biz_content, key),
                "timestamp": str(int(time.time() * 1000)),
                "Accept": "application/json",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"J&T Express refuses the account ({response.status_code})")
        result = self.parse(response)
        if result.outcome == "error" and result.error_code.startswith(GATEWAY_REFUSAL):
            raise PermanentError(
                f"J&T Express refuses the call ({result.error_code}): {result.message}"
            )
        return result


def _is_yes(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


CLIENT = JtExpressClient
