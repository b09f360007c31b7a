"""17TRACK Tracking API v2 webhooks.

17TRACK posts ``{"event": "TRACKING_UPDATED" | "TRACKING_STOPPED", "data":
{"number", "carrier", "param", "tag", "track_info"}}`` to the URL set in the
API console, with a ``sign`` header: the hex SHA-256 of the raw body, a
``/`` and the account's security key. ``data`` is one ``accepted[]`` item
of a ``gettrackinfo`` answer, so it is wrapped into that answer and read by
the polling mapping. TRACKING_STOPPED only says 17TRACK stopped watching
the number (it carries no scans). No delivery-id header: a digest of the
body stands in."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from integrations.carriers import push, registry
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest

if TYPE_CHECKING:
    from integrations.webhooks import Delivery


def signature(security_key: str, body: bytes) -> str:
    return hashlib.sha256(body + b"/" + security_key.encode()).hexdigest()


def verify(security_key: str, body: bytes, given: str) -> bool:
    return (
        bool(security_key)
        and bool(given)
        and hmac.compare_digest(given.strip().lower(), signature(security_key, body))
    )


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    event = delivery.payload.get("event")
    data = delivery.payload.get("data")
    if not isinstance(data, dict) or not data.get("number"):
        raise ValueError("not a 17TRACK webhook (no data.number)")
    if event == "TRACKING_STOPPED":
        raise Ignored(f"17TRACK stopped tracking {data['number']}")
    if event != "TRACKING_UPDATED":
        raise Ignored(f"17TRACK event {event!r} is not a tracking update")
    if not isinstance(data.get("track_info"), dict):
        raise ValueError("TRACKING_UPDATED without track_info")
    result = registry.parse("17track", {"code": 0, "data": {"accepted": [data], "rejected": []}})
    push.apply(delivery, result)


WEBHOOK = WebhookProvider(
    signature_header="sign",
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify,
    delivery_id_from=body_digest,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "Security key",
        "17TRACK API console: Settings > Security; signs every webhook",
        secret=True,
        required=False,
    ),
)
