"""AfterShip tracking webhooks.

AfterShip posts ``{"event": "tracking_update", "event_id": …, "msg": {tracking},
"ts": …}`` and signs the raw body: ``aftership-hmac-sha256`` is the base64
HMAC-SHA256 of the body keyed by the account's webhook secret (Settings >
Webhooks). The tracking in ``msg`` is the object the Tracking API returns,
so it goes through the polling mapping unchanged. There is no delivery-id
header; the body's ``event_id`` (or a digest of the body) stands in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.carriers import push, registry
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest, verify_base64_hmac

if TYPE_CHECKING:
    from integrations.webhooks import Delivery


def delivery_id(raw: bytes, payload: dict) -> str:
    event_id = payload.get("event_id")
    return f"event:{event_id}" if event_id else body_digest(raw, payload)


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    payload = delivery.payload
    tracking = payload.get("msg")
    if not isinstance(tracking, dict) or not tracking.get("tracking_number"):
        if payload.get("event"):
            # Events about something else than a tracking (a test ping, …).
            raise Ignored(f"AfterShip event {payload['event']!r} carries no tracking")
        raise ValueError("not an AfterShip tracking webhook (no msg.tracking_number)")
    result = registry.parse("aftership", {"meta": {"code": 200}, "data": {"tracking": tracking}})
    push.apply(delivery, result)


WEBHOOK = WebhookProvider(
    signature_header="aftership-hmac-sha256",
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify_base64_hmac,
    delivery_id_from=delivery_id,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "Webhook secret",
        "AfterShip: Settings > Webhooks; signs every tracking update",
        secret=True,
        required=False,
    ),
)
