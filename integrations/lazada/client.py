"""Lazada Open Platform (LAZOP) over HTTP, and nothing else.

Every call carries ``app_key``, a millisecond ``timestamp``, ``sign_method``
(``sha256``), the seller's ``access_token`` and ``sign``: the uppercase hex
HMAC-SHA256, keyed by the app secret, of the API path followed by every
parameter name and value (all but ``sign``) sorted by name and concatenated.
Business parameters travel in the query string beside the common ones, so
the request carries exactly what was signed.

Answers carry ``code`` (``"0"`` on success), ``request_id`` and the payload
under ``data``; an error adds ``type`` (ISV: our request, ISP: Lazada's
backend, SYSTEM: the gateway) and ``message``. ``ApiCallLimit`` is
throttling: its message says how long the ban lasts ("This ban will last 1
more seconds"), and we wait that long. ISP/SYSTEM errors and 5xx are
retried with backoff; an ISV error is permanent and reported with Lazada's
code, message and request id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx

from integrations.commerce import ExecutionError
from integrations.signed_http import Prepared, SignedClient, Throttled, Transient, retry_after

# One gateway per country; the seller's country is fixed when the shop authorises the app.
GATEWAYS = {
    "SG": "https://api.lazada.sg/rest",
    "MY": "https://api.lazada.com.my/rest",
    "TH": "https://api.lazada.co.th/rest",
    "PH": "https://api.lazada.com.ph/rest",
    "ID": "https://api.lazada.co.id/rest",
    "VN": "https://api.lazada.vn/rest",
}
PAGE_SIZE = 100  # the most /orders/get returns at once
THROTTLED = {"ApiCallLimit", "AppCallLimit", "SellerCallLimit"}
BAD_TOKEN = {"IllegalAccessToken", "InvalidAccessToken", "AccessTokenExpired"}
BAN = re.compile(r"last\s+(\d+(?:\.\d+)?)\s*(?:more\s+)?second", re.IGNORECASE)


def sign(app_secret: str, api_path: str, params: dict[str, Any]) -> str:
    base = api_path + "".join(f"{name}{params[name]}" for name in sorted(params))
    return hmac.new(app_secret.encode(), base.encode(), hashlib.sha256).hexdigest().upper()


def ban_seconds(message: str) -> float:
    found = BAN.search(message or "")
    return float(found.group(1)) if found else 0.0


class LazadaClient(SignedClient):
    platform = "Lazada"
    # A starting guess below the per-seller limits Lazada enforces per API;
    # an ApiCallLimit answer makes every worker wait out the ban.
    capacity = 10.0
    restore_rate = 5.0

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        access_token: str,
        country: str,
        *,
        seller_id: str = "",
        api: str | None = None,
        now: Any = time.time,
        **kwargs: Any,
    ) -> None:
        country = country.upper()
        if api is None and country not in GATEWAYS:
            raise ExecutionError(
                f"Lazada has no gateway for country {country!r}; use one of " + ", ".join(GATEWAYS),
                permanent=True,
            )
        super().__init__(f"lazada:{app_key}:{seller_id or access_token[-12:]}", **kwargs)
        self.app_key = app_key
        self.app_secret = app_secret
        self.access_token = access_token
        self.api = (api or GATEWAYS[country]).rstrip("/")
        self.now = now

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> LazadaClient:
        values = {
            key: str(credentials.get(key, "")).strip()
            for key in ("app_key", "app_secret", "access_token", "country")
        }
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise ExecutionError(
                f"The Lazada connection has no {', '.join(missing)}", permanent=True
            )
        return cls(**values, seller_id=str(credentials.get("seller_id", "")), **kwargs)

    def prepare(self, method: str, path: str, params: dict[str, Any], body: Any) -> Prepared:
        signed = {
            **{k: _text(v) for k, v in params.items() if v is not None},
            "app_key": self.app_key,
            "access_token": self.access_token,
            "sign_method": "sha256",
            "timestamp": str(int(self.now() * 1000)),
        }
        signed["sign"] = sign(self.app_secret, path, signed)
        return Prepared(method, self.api + path, params=signed)

    def interpret(self, response: httpx.Response, body: Any) -> Any:
        status = response.status_code
        if not isinstance(body, dict):
            if status == 429:
                raise Throttled("Lazada answered 429", retry_after(response))
            if status < 400 or status >= 500:
                raise Transient(f"Lazada answered {status} with a body that is not JSON")
            raise ExecutionError(f"Lazada answered {status}: {response.text[:200]}", permanent=True)
        code = str(body.get("code", ""))
        if code == "0" and status < 400:
            return body.get("data") if "data" in body else body.get("result")
        kind = str(body.get("type") or "")
        message = str(body.get("message") or "")
        detail = f"Lazada {code or status}: {message} (request {body.get('request_id', '?')})"
        if status == 429 or code in THROTTLED:
            raise Throttled(detail, ban_seconds(message) or retry_after(response))
        if status >= 500 or kind in {"ISP", "SYSTEM"} or code == "ServiceTimeout":
            raise Transient(detail)
        if code in BAD_TOKEN:
            raise ExecutionError(f"{detail}: reconnect the shop", permanent=True)
        raise ExecutionError(detail, permanent=True)

    # --- operations ------------------------------------------------------

    def seller(self) -> dict[str, Any]:
        return self.call("GET", "/seller/get") or {}

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self.call("GET", "/order/get", params={"order_id": order_id}) or None

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        return self.call("GET", "/order/items/get", params={"order_id": order_id}) or []

    def orders_updated(self, after: str, *, limit: int = 500) -> list[dict[str, Any]]:
        """Orders updated after an ISO 8601 time, oldest change first, paged by offset."""
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            data = self.call(
                "GET",
                "/orders/get",
                params={
                    "update_after": after,
                    "sort_by": "updated_at",
                    "sort_direction": "ASC",
                    "offset": len(found),
                    "limit": min(PAGE_SIZE, limit - len(found)),
                },
            )
            batch = (data or {}).get("orders") or []
            found.extend(batch)
            total = int((data or {}).get("countTotal") or 0)
            if not batch or len(found) >= total:
                break
        return found[:limit]

    def cancel_reasons(self, order_id: str, item_ids: list[str]) -> list[dict[str, Any]]:
        """Whether these items may be cancelled, and the reasons this country accepts."""
        data = self.call(
            "GET",
            "/order/reverse/cancel/validate",
            params={"order_id": order_id, "order_item_id_list": _id_list(item_ids)},
        )
        return (data or {}).get("reason_options") or []

    def cancel(self, order_id: str, item_ids: list[str], reason_id: str) -> dict[str, Any]:
        # No idempotency key: the adapter reads the items' status first, and an
        # attempt whose outcome is unknown is not sent again blindly.
        return (
            self.call(
                "GET",
                "/order/reverse/cancel/create",
                params={
                    "order_id": order_id,
                    "order_item_id_list": _id_list(item_ids),
                    "reason_id": reason_id,
                },
                retry_unsure=False,
            )
            or {}
        )

    def reverse_order(self, reverse_order_id: str) -> dict[str, Any]:
        return (
            self.call(
                "GET",
                "/order/reverse/return/detail/list",
                params={"reverse_order_id": reverse_order_id},
            )
            or {}
        )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _id_list(ids: list[str]) -> str:
    # Lazada's id lists are JSON arrays of numbers.
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
