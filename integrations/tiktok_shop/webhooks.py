"""TikTok Shop's webhooks into the mirror.

TikTok signs each push with the app's credentials: ``Authorization`` holds
the lowercase hex HMAC-SHA256, keyed by the app secret, of the app key
followed by the raw body. The body names the event by number in ``type``
and carries a thin ``data`` (ids, a status, ``update_time``), so an order
event is applied by reading the order back from the API and mirroring it
stamped with the event's ``update_time``: a late, older event never
overwrites newer state, and a redelivered one changes nothing.

Types: 1 ORDER_STATUS_CHANGE, 3 RECIPIENT_ADDRESS_UPDATE, 4 PACKAGE_UPDATE,
11 CANCELLATION_STATUS_CHANGE (all re-read the order), 12
RETURN_STATUS_CHANGE (a completed return or refund-only request becomes a
refund on the mirror, once, by its return id).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from integrations.commerce import ExecutionError, UnknownOrder, apply_order, apply_refund
from integrations.models import Connection, Order
from integrations.tiktok_shop import mapping
from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from django.http import HttpRequest

    from integrations.webhooks import Delivery

ORDER_EVENTS = {1: "order", 3: "address", 4: "package", 11: "cancellation"}
RETURN_STATUS_CHANGE = 12


def signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify(connection: Connection, request: HttpRequest) -> bool:
    key = connection.credentials.get("app_key", "")
    secret = connection.credentials.get("app_secret", "")
    given = request.headers.get("Authorization", "").strip()
    if not (key and secret and given):
        return False
    return hmac.compare_digest(given, signature(key, secret, request.body))


def process(delivery: Delivery) -> None:
    from integrations.tiktok_shop.adapter import TikTokShopAdapter

    payload, connection = delivery.payload, delivery.connection
    kind = payload.get("type")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("The event has no data object")
    ours = str(connection.credentials.get("shop_id", ""))
    if ours and str(payload.get("shop_id", "")) != ours:
        raise Ignored(f"event for shop {payload.get('shop_id')}, not this connection's")
    adapter = TikTokShopAdapter(connection.tenant, connection)
    try:
        if kind in ORDER_EVENTS:
            _apply_order_event(adapter, data)
        elif kind == RETURN_STATUS_CHANGE:
            _apply_return_event(adapter, data)
        else:
            raise Ignored(f"event type {kind!r} is not mirrored")
    except ExecutionError as exc:
        if not exc.permanent:
            raise  # the worker tries again later
        raise ValueError(str(exc)) from exc


def _apply_order_event(adapter, data: dict) -> None:
    order_id = str(data["order_id"])
    remote = adapter.client.order(order_id)
    if remote is None:
        raise Ignored(f"TikTok Shop no longer shows order {order_id}")
    stamp = mapping.from_unix(data.get("update_time"))
    # The order as read now is at least as new as the event that announced it.
    version = max(filter(None, (stamp, mapping.from_unix(remote.get("update_time")))), default=None)
    if apply_order(adapter.connection, mapping.order_from_api(remote), version_at=version) is None:
        raise Ignored(f"order {order_id} already holds newer state")


def _apply_return_event(adapter, data: dict) -> None:
    if data.get("return_status") not in mapping.REFUNDED_RETURN_STATUSES:
        raise Ignored(f"return {data.get('return_id')} is {data.get('return_status')}")
    order_id, return_id = str(data["order_id"]), str(data["return_id"])
    if not Order.objects.filter(
        tenant=adapter.tenant, connection=adapter.connection, external_id=order_id
    ).exists():
        raise Ignored(f"Order {order_id} is not mirrored")
    record = next(
        (r for r in adapter.client.returns(order_id) if str(r.get("return_id")) == return_id),
        None,
    )
    if record is None:
        raise Ignored(f"TikTok Shop does not list return {return_id}")
    try:
        apply_refund(adapter.connection, mapping.refund_from_return(record))
    except UnknownOrder as exc:
        raise Ignored(str(exc)) from exc
