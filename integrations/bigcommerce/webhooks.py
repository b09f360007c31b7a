"""BigCommerce's webhook scopes into the mirror.

BigCommerce signs nothing. Each hook is registered with a custom header
carrying the connection's webhook secret (``X-Desk-Webhook-Token``, see
``BigCommerceClient.create_hook``), which BigCommerce sends back on every
delivery; a delivery without it is refused. The payload carries only ids
(``{"scope", "data": {"type", "id"}, "hash", "created_at"}``), so processing
fetches the order from the API with our own token: a forged body could at
worst make us re-read an order. For the same reason a redelivery (same
``hash``) has no second effect: the fetched state is applied under the
order's ``date_modified``, and refunds are mirrored once by their id.

Scopes: store/order/created, store/order/updated, store/order/statusUpdated,
store/order/archived, store/shipment/created, store/shipment/updated,
store/shipment/deleted, store/order/refund/created.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from integrations.bigcommerce import mapping
from integrations.bigcommerce.adapter import BigCommerceAdapter
from integrations.commerce import UnknownOrder, apply_refund
from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from integrations.bigcommerce.client import BigCommerceClient
    from integrations.webhooks import Delivery

HOOK_HEADER = "X-Desk-Webhook-Token"
ORDER_SCOPES = {
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/archived",
}
SHIPMENT_SCOPES = {"store/shipment/created", "store/shipment/updated", "store/shipment/deleted"}
REFUND_SCOPES = {"store/order/refund/created"}
SCOPES = ORDER_SCOPES | SHIPMENT_SCOPES | REFUND_SCOPES


SCOPE_HEADER = "X-Desk-Webhook-Scope"


def subscribe(client: BigCommerceClient, destination: str, secret: str) -> list[dict]:
    """Register one hook per mirrored scope, each sending back our token and its scope."""
    return [
        client.create_hook(scope, destination, {HOOK_HEADER: secret, SCOPE_HEADER: scope})
        for scope in sorted(SCOPES)
    ]


def verify_token(secret: str, body: bytes, given: str) -> bool:
    return bool(secret) and bool(given) and hmac.compare_digest(given.strip(), secret)


def _order_id(payload: dict) -> str:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValueError("The payload has no data object")
    found = data.get("orderId") if data.get("type") == "shipment" else data.get("id")
    if found in (None, ""):
        raise KeyError("data.id")
    return str(found)


def process(delivery: Delivery) -> None:
    payload, connection = delivery.payload, delivery.connection
    # The scope is in the body: BigCommerce sends no topic header of its own.
    scope = str(payload.get("scope") or delivery.topic)
    if scope not in SCOPES:
        raise Ignored(f"scope {scope!r} is not mirrored")
    order_id = _order_id(payload)
    adapter = BigCommerceAdapter(connection.tenant, connection)
    raw = adapter.client.order(order_id)
    if raw is None:
        raise Ignored(f"BigCommerce no longer has order {order_id}")
    if adapter.mirror(raw) is None:
        raise Ignored(f"order {order_id} already holds newer state")
    if scope in REFUND_SCOPES:
        currency = str(raw.get("default_currency_code") or raw.get("currency_code") or "")
        try:
            for refund in adapter.client.refunds(order_id):
                apply_refund(connection, mapping.refund(refund, currency))
        except UnknownOrder as exc:
            raise Ignored(str(exc)) from exc
