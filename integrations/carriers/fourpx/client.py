"""4PX open platform ``tr.order.tracking.get`` over HTTP, and nothing else.

Every call is a POST to one router with the public parameters in the query
string (``app_key``, ``format``, ``method``, ``timestamp`` in milliseconds,
``v``) and the JSON request as the body. ``sign`` is the lowercase hex MD5
of the public parameters concatenated as name+value in that order, then the
body, then the app secret. 4PX serves tracking from production only, so
there is no sandbox switch.

Credentials (the Connection's): ``app_key``, ``app_secret``."""

from __future__ import annotations

import hashlib
import json
import time

from integrations.carriers.client import HttpClient, PermanentError
from integrations.carriers.schema import TrackingResult
from integrations.providers import CredentialField

URL = "https://open.4px.com/router/api/service"
METHOD = "tr.order.tracking.get"
VERSION = "1.0.0"
# 4PX's "sign error": the key or secret is wrong, whatever the parcel.
REFUSED = {"S0002"}


def sign(params: dict[str, str], body: str, app_secret: str) -> str:
    """4PX's sign: MD5 hex of app_key, format, method, timestamp, v (name+value), body, secret."""
    names = ("app_key", "format", "method", "timestamp", "v")
    text = "".join(name + params[name] for name in names) + body + app_secret
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class FourPxClient(HttpClient):
    carrier = "4px"
    # 4PX publishes no rate limit for the open platform; stay modest.
    requests_per_second = 2.0
    credential_fields = (
        CredentialField("app_key", "App key"),
        CredentialField("app_secret", "App secret", secret=True),
    )

    def track(self, tracking_number: str, *, carrier: str = "") -> TrackingResult:
        key = self.credentials.get("app_key")
        secret = self.credentials.get("app_secret")
        if not key or not secret:
            raise PermanentError("4PX connection has no app_key / app_secret")
        body = json.dumps({"deliveryOrderNo": tracking_number.strip()}, separators=(",", ":"))
        params = {
            "app_key": key,
            "format": "json",
            "method": METHOD,
            "timestamp": str(int(time.time() * 1000)),
            "v": VERSION,
        }
        params["sign"] = sign(params, body, secret)
        params["language"] = "en"
        request = self.http.build_request(
            "POST",
            URL,
            params=params,
            content=body.encode(),
            headers={
                "Content-Type": "application/json;charset=utf-8",
                "Accept": "application/json",
            },
        )
        response = self.send(request)
        if response.status_code in (401, 403):
            raise PermanentError(f"4PX refuses the app key ({response.status_code})")
        result = self.parse(response)
        if result.outcome == "error" and result.error_code in REFUSED:
            raise PermanentError(
                f"4PX refuses the app key / secret ({result.error_code}): {result.message}"
            )
        return result


CLIENT = FourPxClient
