"""DHL Shipment Tracking - Unified - Push.

A subscription (``POST https://api-eu.dhl.com/tracking/push/v1/subscription``,
by tracking number or by account) names our URL and, under
``hook.authentication``, an ``ApiKeyAuthentication`` header and token of our
choosing, which DHL then sends with every push. DHL signs nothing, so that
token, kept as the connection's webhook secret and sent in the header
named below, is what authenticates a push. With the ``Default`` format the
push carries shipments as the Unified Tracking API returns them
(``{"shipments": [...]}``); each goes through the polling mapping. No
delivery id: a digest of the body stands in."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from integrations.carriers import push, registry
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

# The header we name in the subscription's hook.authentication.
PUSH_HEADER = "X-Desk-Push-Token"


def verify(token: str, body: bytes, given: str) -> bool:
    return bool(token) and bool(given) and hmac.compare_digest(given.strip(), token)


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    shipments = delivery.payload.get("shipments")
    if not isinstance(shipments, list) or not shipments:
        raise ValueError("not a DHL tracking push (no shipments)")
    applied = 0
    for shipment in shipments:
        try:
            push.apply(delivery, registry.parse("dhl", {"shipments": [shipment]}), carrier="dhl")
        except Ignored:
            continue
        applied += 1
    if not applied:
        raise Ignored("No shipment of ours in this DHL push")


WEBHOOK = WebhookProvider(
    signature_header=PUSH_HEADER,
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify,
    delivery_id_from=body_digest,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "Push token",
        f"The token given in the subscription's hook.authentication ({PUSH_HEADER})",
        secret=True,
        required=False,
    ),
)
