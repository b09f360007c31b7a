"""Twilio, WhatsApp Cloud API and Postmark callbacks: statuses, inbound messages, STOP.

Twilio posts form fields and signs the full URL followed by every POST
parameter, sorted by name, as name+value (base64 HMAC-SHA1 with the account's
auth token, in ``X-Twilio-Signature``). Meta posts JSON and signs the raw
body (hex HMAC-SHA256 with the app secret, ``X-Hub-Signature-256:
sha256=<hex>``); on subscription it first calls the same URL with a GET
carrying ``hub.challenge``, answered by ``whatsapp_endpoint``. Postmark posts
inbound email as JSON behind HTTP Basic credentials given in the URL.

Inbound messages are kept once per provider message id and handed to the desk,
which threads them into contacts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
    """Twilio's form fields; every message webhook names the message (MessageSid)."""
    fields = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    if not (fields.get("MessageSid") or fields.get("SmsSid")):
        raise ValueError("not a Twilio message webhook (no MessageSid)")
    return fields


def process_twilio(delivery: Delivery) -> None:
    """A status callback (``MessageStatus``) or an inbound message (``Body``)."""
    from integrations.webhooks import Ignored

    payload = delivery.payload
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
    # A picture with no words (MMS) is kept, but there is nothing for the agent to read.
    media_only = payload.get("NumMedia", "0") not in ("", "0") and not payload["Body"].strip()
    kept = actions.receive_message(
        delivery.connection,
        actions.Incoming(
            channel=Channel.WHATSAPP if sender.startswith("whatsapp:") else Channel.SMS,
            provider_id=payload.get("MessageSid") or payload["SmsSid"],
            sender=sender,
            body=payload["Body"],
            sent_at=datetime.now(UTC),
            kind="media" if media_only else "text",
            sender_name=payload.get("ProfileName", ""),
            raw=payload,
            # With Advanced Opt-Out Twilio classifies the keyword itself, in any language.
            keyword=payload.get("OptOutType", "") if payload.get("OptOutType") != "HELP" else "",
        ),
    )
    if kept is None:
        raise Ignored("Message already received")


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

    payload = delivery.payload
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
            names = {
                c.get("wa_id"): (c.get("profile") or {}).get("name", "")
                for c in value.get("contacts", [])
            }
            for message in value.get("messages", []):
                actions.receive_message(delivery.connection, _whatsapp_incoming(message, names))


def _whatsapp_incoming(message: dict, names: dict[str, str]) -> actions.Incoming:
    """A Cloud API ``messages[]`` item. Text (and the text of a quick-reply button) is
    read; images, stickers, locations and the like are kept as unsupported."""
    kind = message.get("type", "")
    body = ""
    if kind == "text":
        body = (message.get("text") or {}).get("body", "")
    elif kind == "button":
        body, kind = (message.get("button") or {}).get("text", ""), "text"
    return actions.Incoming(
        channel=Channel.WHATSAPP,
        provider_id=message["id"],
        sender=message["from"],
        body=body,
        sent_at=_timestamp(message.get("timestamp")),
        kind=kind or "unknown",
        sender_name=names.get(message["from"], ""),
        raw=message,
    )


# --- Email: Postmark's inbound webhook ------------------------------------------


def verify_postmark(connection: Connection, request: HttpRequest) -> bool:
    """Postmark does not sign inbound posts; its documented protection is HTTP Basic
    credentials written into the webhook URL (https://user:password@host/...)."""
    password = connection.webhook_secret
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if not (password and scheme.lower() == "basic" and encoded):
        return False
    try:
        user, _, given = base64.b64decode(encoded.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    expected_user = connection.credentials.get("inbound_user", "postmark")
    return hmac.compare_digest(user, expected_user) & hmac.compare_digest(given, password)


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _header(headers: list[dict], name: str) -> str:
    for header in headers:
        if str(header.get("Name", "")).lower() == name.lower():
            return str(header.get("Value", ""))
    return ""


def _email_time(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def process_postmark(delivery: Delivery) -> None:
    """One inbound email as Postmark posts it (``MessageID``, ``FromFull``, ``Headers``…)."""
    from integrations.webhooks import Ignored

    payload = delivery.payload
    headers = payload.get("Headers") or []
    # Replies thread by the Message-IDs they answer: In-Reply-To first, then References.
    refs = _MESSAGE_ID.findall(_header(headers, "In-Reply-To"))
    refs += [r for r in _MESSAGE_ID.findall(_header(headers, "References")) if r not in refs]
    # Out-of-office and bounce notices are kept but never start a contact (RFC 3834).
    automatic = _header(headers, "Auto-Submitted").lower() not in ("", "no")
    sender = payload.get("FromFull") or {}
    raw = {k: v for k, v in payload.items() if k not in ("Attachments", "HtmlBody", "RawEmail")}
    raw["Attachments"] = [a.get("Name", "") for a in payload.get("Attachments") or []]
    kept = actions.receive_message(
        delivery.connection,
        actions.Incoming(
            channel=Channel.EMAIL,
            provider_id=payload["MessageID"],
            sender=sender.get("Email") or payload["From"],
            body=(payload.get("StrippedTextReply") or payload.get("TextBody") or "").strip(),
            sent_at=_email_time(payload.get("Date", "")),
            kind="auto_reply" if automatic else "text",
            sender_name=sender.get("Name") or payload.get("FromName", ""),
            subject=payload.get("Subject", ""),
            thread_refs=refs,
            raw=raw,
        ),
    )
    if kept is None:
        raise Ignored("Message already received")


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
