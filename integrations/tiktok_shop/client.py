"""TikTok Shop Open API (versions 202309 and later) over HTTP, and nothing else.

Every call carries ``app_key``, a Unix ``timestamp`` and ``sign`` in the query
string, the shop's ``shop_cipher`` for shop-scoped APIs, and the seller's
token in the ``x-tts-access-token`` header. ``sign`` is the lowercase hex
HMAC-SHA256, keyed by the app secret, of: app secret + request path + every
query parameter except ``sign`` and ``access_token`` as ``{key}{value}`` in
key order + the JSON body (when there is one) + app secret.

Answers are ``{"code", "message", "request_id", "data"}``; ``code`` 0 is
success and anything else is the platform's error, reported with its code,
message and request id (what TikTok support asks for). Throttling is HTTP 429.
TikTok limits an app per shop and per API in requests per second; the shared
bucket queues our workers below that instead of letting them collide.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.signed_http import Prepared, SignedClient, Throttled, Transient, retry_after

VERSION = "202309"
# TIKTOK_SHOP_API points every shop at a stand-in (the sandbox host, a local fake).
API = os.environ.get("TIKTOK_SHOP_API", "https://open-api.tiktokglobalshop.com")
PAGE_SIZE = 50  # the largest page the order and return searches take


def sign(app_secret: str, path: str, params: dict[str, Any], body: bytes = b"") -> str:
    """TikTok Shop's request signature (see the module docstring)."""
    signed = "".join(
        f"{key}{params[key]}" for key in sorted(params) if key not in {"sign", "access_token"}
    )
    message = app_secret.encode() + path.encode() + signed.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


class TikTokShopClient(SignedClient):
    platform = "TikTok Shop"

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        access_token: str,
        shop_cipher: str,
        *,
        api: str | None = None,
        now: Any = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(f"tiktok_shop:{app_key}:{shop_cipher}", **kwargs)
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.shop_cipher = shop_cipher
        self.api = (api or API).rstrip("/")
        self.now = now

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> TikTokShopClient:
        values = {
            key: str(credentials.get(key, "")).strip()
            for key in ("app_key", "app_secret", "access_token", "shop_cipher")
        }
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise ExecutionError(
                f"The TikTok Shop connection has no {', '.join(missing)}", permanent=True
            )
        return cls(**values, **kwargs)

    # --- transport -------------------------------------------------------

    def prepare(self, method: str, path: str, params: dict[str, Any], body: Any) -> Prepared:
        params = {**params, "app_key": self.app_key, "timestamp": str(int(self.now()))}
        if path.split("/")[1] != "authorization":
            params["shop_cipher"] = self.shop_cipher
        # The bytes signed are the bytes sent.
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        params["sign"] = sign(self.app_secret, path, params, content)
        return Prepared(
            method,
            self.api + path,
            params=params,
            headers={"x-tts-access-token": self.access_token, "content-type": "application/json"},
            content=content or None,
        )

    def interpret(self, response: httpx.Response, body: Any) -> Any:
        status = response.status_code
        if not isinstance(body, dict):
            if status == 429:
                raise Throttled("TikTok Shop answered 429", retry_after(response))
            if status < 400 or status >= 500:
                raise Transient(f"TikTok Shop answered {status} with a body that is not JSON")
            body = {"code": status, "message": response.text[:200]}
        code, message = body.get("code"), body.get("message") or ""
        detail = f"TikTok Shop error {code}: {message} (request {body.get('request_id', '?')})"
        if status == 429:
            raise Throttled(detail, retry_after(response))
        if status >= 500:
            raise Transient(detail)
        if code == 0 and status < 400:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        if status in (401, 403):
            raise ExecutionError(f"{detail}: reconnect the shop", permanent=True)
        raise ExecutionError(detail, permanent=True)

    # --- operations ------------------------------------------------------

    def authorized_shops(self) -> list[dict[str, Any]]:
        return self.call("GET", f"/authorization/{VERSION}/shops").get("shops") or []

    def orders(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """Get Order Detail: up to 50 orders by id (the number buyers see)."""
        if not order_ids:
            return []
        data = self.call("GET", f"/order/{VERSION}/orders", params={"ids": ",".join(order_ids)})
        return data.get("orders") or []

    def order(self, order_id: str) -> dict[str, Any] | None:
        found = self.orders([order_id])
        return found[0] if found else None

    def search_orders(self, filters: dict[str, Any], *, limit: int = 50) -> list[dict[str, Any]]:
        """Get Order List, newest first, following ``next_page_token`` until ``limit``."""
        orders: list[dict[str, Any]] = []
        token = ""
        while len(orders) < limit:
            params: dict[str, Any] = {
                "page_size": min(PAGE_SIZE, limit - len(orders)),
                "sort_field": "create_time",
                "sort_order": "DESC",
            }
            if token:
                params["page_token"] = token
            data = self.call("POST", f"/order/{VERSION}/orders/search", params=params, body=filters)
            orders.extend(data.get("orders") or [])
            token = data.get("next_page_token") or ""
            if not token:
                break
        return orders[:limit]

    def cancel_order(
        self, order_id: str, *, cancel_reason: str, line_item_ids: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"order_id": order_id, "cancel_reason": cancel_reason}
        if line_item_ids:
            body["order_line_item_ids"] = line_item_ids
        # No idempotency key on this API: callers look for an existing
        # cancellation first, and an unsure attempt is not repeated blindly.
        return self.call(
            "POST", f"/return_refund/{VERSION}/cancellations", body=body, retry_unsure=False
        )

    def cancellations(self, order_id: str) -> list[dict[str, Any]]:
        data = self.call(
            "POST",
            f"/return_refund/{VERSION}/cancellations/search",
            params={"page_size": PAGE_SIZE},
            body={"order_ids": [order_id]},
        )
        return data.get("cancellations") or []

    def create_return(self, body: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        """Create Return (also a refund-only request, ``return_type`` REFUND).
        TikTok honours ``idempotency_key``: the same key answers the first return."""
        return self.call(
            "POST",
            f"/return_refund/{VERSION}/returns",
            params={"idempotency_key": idempotency_key[:255]},
            body=body,
        )

    def returns(self, order_id: str) -> list[dict[str, Any]]:
        data = self.call(
            "POST",
            f"/return_refund/{VERSION}/returns/search",
            params={"page_size": PAGE_SIZE},
            body={"order_ids": [order_id]},
        )
        return data.get("return_orders") or []
