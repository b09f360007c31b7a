"""Shopee's push mechanism into the mirror.

Shopee signs each push with the partner key: ``Authorization`` holds the
lowercase hex HMAC-SHA256 of the callback URL it called, a ``|``, and the raw
body. The body names the push by number in ``code`` and carries a thin
``data``; an order push is applied by reading the order (and its tracking
numbers) back and mirroring it stamped with the push's time, so a late push
never overwrites newer state and a repeated one changes nothing.

Codes: 3 order status, 4 tracking number.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from integrations.commerce import ExecutionError, apply_order
from integrations.models import Connection
from integrations.shopee import mapping
from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from django.http import HttpRequest

    from integrations.webhooks import Delivery

ORDER_STATUS, TRACKING_NUMBER = 3, 4


def signature(partner_key: str, url: str, body: bytes) -> str:
    return hmac.new(partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()


def verify(connection: Connection, request: HttpRequest) -> bool:
    key = connection.credentials.get("partner_key", "")
    given = request.headers.get("Authorization", "").strip()
    if not (key and given):
        return False
    # The URL as Shopee called it; behind a proxy, USE_X_FORWARDED_HOST keeps it whole.
    url = request.build_absolute_uri()
    return hmac.compare_digest(given, signature(key, url, request.body))


def process(delivery: Delivery) -> None:
    from integrations.shopee.adapter import ShopeeAdapter

    payload, connection = delivery.payload, delivery.connection
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("The push has no data object")
    ours = str(connection.credentials.get("shop_id", ""))
    if ours and str(payload.get("shop_id", "")) != ours:
        raise Ignored(f"push for shop {payload.get('shop_id')}, not this connection's")
    if payload.get("code") not in {ORDER_STATUS, TRACKING_NUMBER}:
        raise Ignored(f"push code {payload.get('code')!r} is not mirrored")
    order_sn = str(data["ordersn"])
    adapter = ShopeeAdapter(connection.tenant, connection)
    try:
        remote = adapter.read(order_sn)
    except ExecutionError as exc:
        if not exc.permanent:
            raise  # the worker tries again later
        raise ValueError(str(exc)) from exc
    if remote is None:
        raise Ignored(f"Shopee no longer shows order {order_sn}")
    stamp = mapping.from_unix(data.get("update_time") or payload.get("timestamp"))
    current = mapping.from_unix(remote.get("update_time"))
    version = max(filter(None, (stamp, current)), default=None)
    tracking = remote.pop("_tracking", {})
    if (
        apply_order(connection, mapping.order_from_api(remote, tracking), version_at=version)
        is None
    ):
        raise Ignored(f"order {order_sn} already holds newer state")
