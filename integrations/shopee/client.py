"""Shopee Open Platform API v2 over HTTP, and nothing else.

Every shop-level call carries ``partner_id``, a Unix ``timestamp``,
``access_token``, ``shop_id`` and ``sign`` in the query string. ``sign`` is the
lowercase hex HMAC-SHA256, keyed by the partner key, of partner_id + API path
+ timestamp + access_token + shop_id (public calls sign the first three only).

Answers carry ``error`` (empty on success), ``message``, ``request_id`` and the
payload under ``response``. Errors are reported with Shopee's error name,
message and request id; HTTP 429, or an error naming too many requests, is
throttling and waits; 5xx and server-side error names are retried.
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

API = os.environ.get("SHOPEE_API", "https://partner.shopeemobile.com")
PAGE_SIZE = 100
DETAIL_FIELDS = (
    "buyer_user_id,buyer_username,recipient_address,item_list,package_list,"
    "shipping_carrier,estimated_shipping_fee,actual_shipping_fee,total_amount,cancel_reason"
)


def sign(partner_key: str, base: str) -> str:
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def shop_sign(
    partner_key: str, partner_id: str, path: str, timestamp: str, access_token: str, shop_id: str
) -> str:
    return sign(partner_key, f"{partner_id}{path}{timestamp}{access_token}{shop_id}")


class ShopeeClient(SignedClient):
    platform = "Shopee"

    def __init__(
        self,
        partner_id: str,
        partner_key: str,
        access_token: str,
        shop_id: str,
        *,
        api: str | None = None,
        now: Any = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(f"shopee:{partner_id}:{shop_id}", **kwargs)
        self.partner_id = partner_id
        self.partner_key = partner_key
        self.access_token = access_token
        self.shop_id = shop_id
        self.api = (api or API).rstrip("/")
        self.now = now

    @classmethod
    def for_credentials(cls, credentials: dict[str, Any], **kwargs: Any) -> ShopeeClient:
        values = {
            key: str(credentials.get(key, "")).strip()
            for key in ("partner_id", "partner_key", "access_token", "shop_id")
        }
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise ExecutionError(
                f"The Shopee connection has no {', '.join(missing)}", permanent=True
            )
        return cls(**values, **kwargs)

    def prepare(self, method: str, path: str, params: dict[str, Any], body: Any) -> Prepared:
        timestamp = str(int(self.now()))
        params = {
            **params,
            "partner_id": self.partner_id,
            "timestamp": timestamp,
            "access_token": self.access_token,
            "shop_id": self.shop_id,
            "sign": shop_sign(
                self.partner_key,
                self.partner_id,
                path,
                timestamp,
                self.access_token,
                self.shop_id,
            ),
        }
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        return Prepared(
            method,
            self.api + path,
            params=params,
            headers={"content-type": "application/json"},
            content=content,
        )

    def interpret(self, response: httpx.Response, body: Any) -> Any:
        status = response.status_code
        if not isinstance(body, dict):
            if status == 429:
                raise Throttled("Shopee answered 429", retry_after(response))
            if status < 400 or status >= 500:
                raise Transient(f"Shopee answered {status} with a body that is not JSON")
            body = {"error": f"http_{status}", "message": response.text[:200]}
        error = str(body.get("error") or "")
        detail = (
            f"Shopee {error or status}: {body.get('message') or ''} "
            f"(request {body.get('request_id', '?')})"
        )
        if status == 429 or "too_many" in error or "rate_limit" in error:
            raise Throttled(detail, retry_after(response))
        if status >= 500 or error.startswith(("error_server", "error_inner", "error_busy")):
            raise Transient(detail)
        if not error and status < 400:
            # Most calls answer under "response"; a few (get_shop_info) at the top.
            payload = body.get("response", body)
            return payload if isinstance(payload, dict) else {}
        if status in (401, 403) or error in {"error_auth", "invalid_access_token"}:
            raise ExecutionError(f"{detail}: reconnect the shop", permanent=True)
        raise ExecutionError(detail, permanent=True)

    # --- operations ------------------------------------------------------

    def shop_info(self) -> dict[str, Any]:
        # get_shop_info answers at the top level, not under "response".
        return self.call("GET", "/api/v2/shop/get_shop_info") or {}

    def order_details(self, order_sns: list[str]) -> list[dict[str, Any]]:
        if not order_sns:
            return []
        data = self.call(
            "GET",
            "/api/v2/order/get_order_detail",
            params={
                "order_sn_list": ",".join(order_sns[:50]),
                "response_optional_fields": DETAIL_FIELDS,
            },
        )
        return data.get("order_list") or []

    def order(self, order_sn: str) -> dict[str, Any] | None:
        found = self.order_details([order_sn])
        return found[0] if found else None

    def order_list(self, time_from: int, time_to: int, *, limit: int = 100) -> list[str]:
        """Order numbers created in a window (at most 15 days), following ``next_cursor``."""
        found: list[str] = []
        cursor = ""
        while len(found) < limit:
            data = self.call(
                "GET",
                "/api/v2/order/get_order_list",
                params={
                    "time_range_field": "create_time",
                    "time_from": time_from,
                    "time_to": time_to,
                    "page_size": min(PAGE_SIZE, limit - len(found)),
                    "cursor": cursor,
                },
            )
            found.extend(o["order_sn"] for o in data.get("order_list") or [])
            cursor = data.get("next_cursor") or ""
            if not data.get("more") or not cursor:
                break
        return found[:limit]

    def tracking_number(self, order_sn: str, package_number: str = "") -> str:
        params = {"order_sn": order_sn}
        if package_number:
            params["package_number"] = package_number
        data = self.call("GET", "/api/v2/logistics/get_tracking_number", params=params)
        return data.get("tracking_number") or ""

    def cancel_order(self, order_sn: str, cancel_reason: str) -> dict[str, Any]:
        # No idempotency key: callers check the order's status first, and an
        # unsure attempt is not sent again blindly.
        return self.call(
            "POST",
            "/api/v2/order/cancel_order",
            body={"order_sn": order_sn, "cancel_reason": cancel_reason},
            retry_unsure=False,
        )
