"""Shopify's webhook topics into the mirror.

Shopify signs the raw body with the app's secret (base64 HMAC-SHA256 in
``X-Shopify-Hmac-Sha256``), may deliver an event more than once (the same
``X-Shopify-Webhook-Id``; the intake de-duplicates) and does not deliver in
order. ``X-Shopify-Triggered-At`` says when the event happened: an order or
fulfilment event older than the one already applied is kept but ignored.

Topics: orders/create, orders/updated (and orders/cancelled, orders/paid,
orders/fulfilled, orders/partially_fulfilled, which carry the same order
object), fulfillments/create, fulfillments/update, refunds/create.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.commerce import UnknownOrder, apply_fulfillment, apply_order, apply_refund
from integrations.shopify import mapping
from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

ORDER_TOPICS = {
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/fulfilled",
    "orders/partially_fulfilled",
}
FULFILLMENT_TOPICS = {"fulfillments/create", "fulfillments/update"}
REFUND_TOPICS = {"refunds/create"}
TOPICS = ORDER_TOPICS | FULFILLMENT_TOPICS | REFUND_TOPICS


def process(delivery: Delivery) -> None:
    topic, payload, connection = delivery.topic, delivery.payload, delivery.connection
    if topic not in TOPICS:
        # Subscribed by mistake or added later: acknowledging stops redelivery.
        raise Ignored(f"topic {topic!r} is not mirrored")
    if topic in ORDER_TOPICS:
        data = mapping.order_from_rest(payload)
        version = delivery.triggered_at or mapping.parse_time(payload.get("updated_at"))
        if apply_order(connection, data, version_at=version) is None:
            raise Ignored(f"order {data.external_id} already holds newer state")
        return
    try:
        if topic in FULFILLMENT_TOPICS:
            fulfillment = mapping.fulfillment_from_rest(payload)
            version = delivery.triggered_at or fulfillment.occurred_at
            if apply_fulfillment(connection, fulfillment, version_at=version) is None:
                raise Ignored(f"fulfillment {fulfillment.external_id} already holds newer state")
        else:
            apply_refund(connection, mapping.refund_from_rest(payload))
    except UnknownOrder as exc:
        # The order predates the connection; answering an error would only
        # make Shopify retry (and eventually drop the subscription).
        raise Ignored(str(exc)) from exc
