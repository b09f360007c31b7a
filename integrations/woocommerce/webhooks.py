"""WooCommerce's webhook topics into the mirror.

WooCommerce signs the raw body with the webhook's secret (base64
HMAC-SHA256 in ``X-WC-Webhook-Signature``), names the topic in
``X-WC-Webhook-Topic`` and each delivery in ``X-WC-Webhook-Delivery-ID``.
``order.*`` bodies are the whole order resource; refunds have no topic of
their own and arrive as ``order.updated`` with the order's ``refunds`` list,
mirrored once each by id. There is no timestamp header: the order's
``date_modified_gmt`` orders the events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.commerce import apply_order, apply_refund
from integrations.webhooks import Ignored
from integrations.woocommerce import mapping

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

TOPICS = {"order.created", "order.updated", "order.restored"}


def process(delivery: Delivery) -> None:
    topic, payload, connection = delivery.topic, delivery.payload, delivery.connection
    if topic not in TOPICS:
        # order.deleted carries only the id; other resources are not mirrored.
        raise Ignored(f"topic {topic!r} is not mirrored")
    data = mapping.order(payload)
    version = mapping.gmt(payload.get("date_modified_gmt"))
    if apply_order(connection, data, version_at=version) is None:
        raise Ignored(f"order {data.external_id} already holds newer state")
    for refund in mapping.refunds(payload):
        apply_refund(connection, refund)
