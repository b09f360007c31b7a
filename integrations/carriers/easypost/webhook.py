"""EasyPost Event webhooks for trackers.

EasyPost posts an Event, ``{"object": "Event", "id": "evt_…", "description":
"tracker.updated", "result": {Tracker}}``, and when the webhook has a
secret signs the raw body: ``X-Hmac-Signature: hmac-sha256-hex=<hex>``, the
HMAC-SHA256 keyed by the secret after Unicode NFKD normalisation (as
EasyPost's own client libraries check it). The Tracker is the object the
Trackers API returns, read by the polling mapping; the Event id is the
delivery id."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import TYPE_CHECKING

from integrations.carriers import push, registry
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

TRACKER_EVENTS = ("tracker.created", "tracker.updated")


def signature(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, given: str) -> bool:
    return (
        bool(secret) and bool(given) and hmac.compare_digest(given.strip(), signature(secret, body))
    )


def delivery_id(raw: bytes, payload: dict) -> str:
    return str(payload.get("id") or "") or body_digest(raw, payload)


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    payload = delivery.payload
    if payload.get("object") != "Event":
        raise ValueError(f"not an EasyPost Event (object {payload.get('object')!r})")
    if payload.get("description") not in TRACKER_EVENTS:
        raise Ignored(f"EasyPost event {payload.get('description')!r} is not about a tracker")
    tracker = payload.get("result")
    if not isinstance(tracker, dict) or not tracker.get("tracking_code"):
        raise ValueError("tracker event without result.tracking_code")
    push.apply(delivery, registry.parse("easypost", tracker))


WEBHOOK = WebhookProvider(
    signature_header="X-Hmac-Signature",
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify,
    delivery_id_from=delivery_id,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "Webhook secret",
        "The webhook_secret given when the EasyPost webhook was created",
        secret=True,
        required=False,
    ),
)
