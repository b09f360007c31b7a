"""AfterShip Returns webhooks: every return event carries the whole return.

The body is ``{"id", "created_at", "event", "modified", "data"}``: ``id``
names the delivery (kept as its delivery id, so a redelivery is answered
``duplicate``), ``created_at`` stamps the event for ordering, and ``data``
is a complete snapshot of the return, whatever the event. The signature is
the base64 HMAC-SHA256 of the raw body with the webhook secret, in
``as-signature-hmac-sha256``; organizations created before 25 October 2022
send it as ``am-webhook-signature: hmac-sha256=<signature>`` instead.
"""

from __future__ import annotations

from django.http import HttpRequest

from integrations.aftership_returns import mapping
from integrations.models import Connection
from integrations.return_mirror import UnknownReturnOrder, apply_return
from integrations.webhooks import Delivery, Ignored, body_digest, verify_base64_hmac

SIGNATURE_HEADER = "as-signature-hmac-sha256"
LEGACY_SIGNATURE_HEADER = "am-webhook-signature"


def verify(connection: Connection, request: HttpRequest) -> bool:
    secret = connection.webhook_secret
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given:
        legacy = request.headers.get(LEGACY_SIGNATURE_HEADER, "").strip()
        given = legacy.removeprefix("hmac-sha256=") if legacy.startswith("hmac-sha256=") else ""
    return verify_base64_hmac(secret, request.body, given)


def delivery_id(raw: bytes, payload: dict) -> str:
    return str(payload.get("id") or "") or body_digest(raw, payload)


def process(delivery: Delivery) -> None:
    payload = delivery.payload
    event = str(payload.get("event") or "")
    snapshot = payload.get("data")
    if not event.startswith("return.") or not isinstance(snapshot, dict):
        raise Ignored(f"{event or 'an event'} carries no return")
    data = mapping.return_data(snapshot)
    try:
        applied = apply_return(
            delivery.connection, data, version_at=mapping.parse_time(payload.get("created_at"))
        )
    except UnknownReturnOrder as exc:
        raise Ignored(str(exc)) from exc
    if applied is None:
        raise Ignored(f"{event} for return {data.reference or data.external_id} is stale")
