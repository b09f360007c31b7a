"""Twilio and WhatsApp Cloud API callbacks: delivery statuses, inbound messages, STOP.

Twilio posts form fields and signs the full URL followed by every POST
parameter, sorted by name, as name+value (base64 HMAC-SHA1 with the account's
auth token, in ``X-Twilio-Signature``). Meta posts JSON and signs the raw
body (hex HMAC-SHA256 with the app secret, ``X-Hub-Signature-256:
sha256=<hex>``); on subscription it first calls the same URL with a GET
carrying ``hub.challenge``, answered by ``whatsapp_endpoint``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.messaging import actions
from integrations.messaging.models import Channel

if TYPE_CHECKING:
    from integrations.models import Connection
    from integrations.webhooks import Delivery


# --- Twilio ----------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """What Twilio puts in X-Twilio-Signature for a POST of ``params`` to ``url``."""
    data = url + "".join(f"{k}{v}" for k, v in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_twilio(connection: Connection, request: HttpRequest) -> bool:
    token = connection.credentials.get("auth_token") or connection.webhook_secret
    given = request.headers.get("X-Twilio-Signature", "")
    if not (token and given):
        return False
    params = parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    expected = twilio_signature(token, request.build_absolute_uri(), params)
    return hmac.compare_digest(given.strip(), expected)


def parse_form(raw: bytes) -> dict:
    return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))


def process_twilio(delivery: Delivery) -> None:
    """A status callback (``MessageStatus``) or an inbound message (``Body``)."""
    from integrations.webhooks import Ignored

    tenant, payload = delivery.connection.tenant, delivery.payload
    if "MessageStatus" in payload:
        message = actions.apply_status(
            "twilio",
            payload.get("MessageSid") or payload.get("SmsSid", ""),
            payload["MessageStatus"],
            raw=payload,
            code=payload.get("ErrorCode", ""),
            error=f"Twilio error {payload['ErrorCode']}" if payload.get("ErrorCode") else "",
        )
        if message is None:
            raise Ignored("Not a message we sent")
        return
    if "Body" not in payload or "From" not in payload:
        raise Ignored("Neither a status callback nor an inbound message")
    sender = payload["From"]
    channel = Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS
    actions.record_inbound(tenant, channel, sender, datetime.now(UTC))
    # With Advanced Opt-Out Twilio classifies the keyword itself (OptOutType).
    kind = payload.get("OptOutType", "").upper()
    if kind == "STOP":
        actions.opt_out(tenant, channel, sender, source="twilio")
    elif kind == "START":
        actions.opt_in(tenant, channel, sender)
    else:
        actions.handle_keyword(tenant, channel, sender, payload["Body"])


# --- WhatsApp Cloud API --------------------------------------------------------


def whatsapp_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_whatsapp(app_secret: str, body: bytes, given: str) -> bool:
    return (
        bool(app_secret)
        and bool(given)
        and hmac.compare_digest(given.strip(), whatsapp_signature(app_secret, body))
    )


def _timestamp(value: str | None) -> datetime:
    try:
        return datetime.fromtimestamp(int(value or ""), tz=UTC)
    except ValueError:
        return datetime.now(UTC)


def process_whatsapp(delivery: Delivery) -> None:
    """A ``whatsapp_business_account`` notification: statuses and/or inbound messages."""
    from integrations.webhooks import Ignored

    tenant, payload = delivery.connection.tenant, delivery.payload
    if payload.get("object") != "whatsapp_business_account":
        raise Ignored(f"Not a WhatsApp notification: {payload.get('object')!r}")
    for entry in payload["entry"]:
        for change in entry.get("changes", []):
            value = change.get("value") or {}
            for status in value.get("statuses", []):
                errors = status.get("errors") or [{}]
                error = errors[0]
                actions.apply_status(
                    "whatsapp",
                    status["id"],
                    status["status"],
                    raw=status,
                    code=str(error.get("code", "")),
                    error=" ".join(p for p in (error.get("title"), error.get("message")) if p),
                    at=_timestamp(status.get("timestamp")),
                )
            for message in value.get("messages", []):
                sender = message["from"]
                actions.record_inbound(
                    tenant, Channel.WHATSAPP, sender, _timestamp(message.get("timestamp"))
                )
                if message.get("type") == "text":
                    text = (message.get("text") or {}).get("body", "")
                    actions.handle_keyword(tenant, Channel.WHATSAPP, sender, text)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_endpoint(request: HttpRequest, connection_id: str) -> HttpResponse:
    """Meta's callback URL: GET answers the subscription handshake with ``hub.challenge``
    when ``hub.verify_token`` matches the connection's; POST is ordinary webhook intake."""
    from integrations.models import Connection
    from integrations.webhooks import receive

    if request.method == "POST":
        return receive(request, "whatsapp", connection_id)
    try:
        public_id = uuid.UUID(connection_id)
    except ValueError:
        return JsonResponse({"error": "No such connection"}, status=404)
    connection = Connection.objects.filter(
        public_id=public_id, provider="whatsapp", is_active=True
    ).first()
    if connection is None:
        return JsonResponse({"error": "No such connection"}, status=404)
    expected = connection.credentials.get("verify_token", "")
    given = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") != "subscribe" or not (
        expected and hmac.compare_digest(given, expected)
    ):
        return HttpResponse("Verification failed", status=403)
    return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
