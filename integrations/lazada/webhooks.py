"""Lazada Push Mechanism messages into the mirror.

Lazada signs each push with the app: ``Authorization`` holds the hex
HMAC-SHA256, keyed by the app secret, of the app key followed by the raw
body. A push names no delivery (the intake keys it by a digest of the
body) and names its kind in ``message_type``; a trade order message
(type 0) carries the order id and the status change, and, when the buyer
opened a return or a refund, the reverse order's ids too. It is applied by
reading the order and its items back and mirroring them stamped with the
status change's time, so a late push never overwrites newer state and a
repeated one changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from integrations.commerce import ExecutionError, apply_order
from integrations.lazada import mapping
from integrations.models import Connection
from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from django.http import HttpRequest

    from integrations.webhooks import Delivery

TRADE_ORDER = 0


def signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify(connection: Connection, request: HttpRequest) -> bool:
    key = connection.credentials.get("app_key", "")
    secret = connection.credentials.get("app_secret", "")
    given = request.headers.get("Authorization", "").strip().lower()
    if not (key and secret and given):
        return False
    return hmac.compare_digest(given, signature(key, secret, request.body))


def process(delivery: Delivery) -> None:
    from integrations.lazada.adapter import LazadaAdapter

    payload, connection = delivery.payload, delivery.connection
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("The push has no data object")
    ours = str(connection.credentials.get("seller_id", ""))
    if ours and str(payload.get("seller_id", "")) != ours:
        raise Ignored(f"push for seller {payload.get('seller_id')}, not this connection's")
    if payload.get("message_type") != TRADE_ORDER:
        raise Ignored(f"message type {payload.get('message_type')!r} is not mirrored")
    order_id = str(data["trade_order_id"])
    adapter = LazadaAdapter(connection.tenant, connection)
    try:
        remote = adapter.read(order_id)
    except ExecutionError as exc:
        if not exc.permanent:
            raise  # the worker tries again later
        raise ValueError(str(exc)) from exc
    if remote is None:
        raise Ignored(f"Lazada no longer shows order {order_id}")
    order, items = remote
    stamp = mapping.from_unix(data.get("status_update_time"))
    current = mapping.parse_time(order.get("updated_at"))
    version = max(filter(None, (stamp, current)), default=None)
    if apply_order(connection, mapping.order_from_api(order, items), version_at=version) is None:
        raise Ignored(f"order {order_id} already holds newer state")
