"""Webhook intake: keep the raw delivery, verify its signature, de-duplicate, process.

Every delivery is stored first, valid or not, so nothing a provider sent is
ever lost; a redelivery of an accepted event is acknowledged and not
processed again. Answers: 401 bad signature, 400 malformed body, 200 with
``duplicate`` for a redelivery, 200 ``ignored`` for an event the provider
need not resend (stale, or about something we do not mirror), 422 when it
cannot be processed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.models import Connection, WebhookEvent


@dataclass(frozen=True)
class Delivery:
    """One verified, parsed, first-time delivery handed to a provider's processor."""

    connection: Connection
    topic: str
    payload: dict
    headers: dict[str, str]
    triggered_at: datetime | None = None


class Ignored(Exception):
    """The event is valid but changes nothing (stale, or about data we do not hold)."""


def sign(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body: Shopify's scheme, which the sandbox shares."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify_base64_hmac(secret: str, body: bytes, given: str) -> bool:
    return bool(secret) and bool(given) and hmac.compare_digest(given.strip(), sign(secret, body))


@dataclass(frozen=True)
class WebhookProvider:
    signature_header: str
    delivery_header: str
    topic_header: str
    process: Callable[[Delivery], None]
    verify: Callable[[str, bytes, str], bool] = verify_base64_hmac
    # Header stamping when the provider raised the event, for ordering.
    triggered_at_header: str = ""
    # For schemes that sign more than the body (Twilio signs the URL and the form fields).
    verify_request: Callable[[Connection, HttpRequest], bool] | None = None
    parse: Callable[[bytes], dict] | None = None


def _providers() -> dict[str, WebhookProvider]:
    from integrations.messaging import webhooks as messaging_webhooks
    from integrations.sandbox import webhooks as sandbox_webhooks
    from integrations.shopify import webhooks as shopify_webhooks

    return {
        Connection.Provider.SANDBOX_CARRIER: WebhookProvider(
            "X-Desk-Hmac-Sha256", "X-Desk-Webhook-Id", "X-Desk-Topic", sandbox_webhooks.process
        ),
        Connection.Provider.SHOPIFY: WebhookProvider(
            "X-Shopify-Hmac-Sha256",
            "X-Shopify-Webhook-Id",
            "X-Shopify-Topic",
            shopify_webhooks.process,
            triggered_at_header="X-Shopify-Triggered-At",
        ),
        "twilio": WebhookProvider(
            "X-Twilio-Signature",
            "I-Twilio-Idempotency-Token",
            "",
            messaging_webhooks.process_twilio,
            verify_request=messaging_webhooks.verify_twilio,
            parse=messaging_webhooks.parse_form,
        ),
        "whatsapp": WebhookProvider(
            "X-Hub-Signature-256",
            "",
            "",
            messaging_webhooks.process_whatsapp,
            verify=messaging_webhooks.verify_whatsapp,
        ),
        "email": WebhookProvider(
            "",
            "",
            "",
            messaging_webhooks.process_postmark,
            verify_request=messaging_webhooks.verify_postmark,
        ),
    }


PROVIDERS: dict[str, WebhookProvider] = _providers()


def _kept_headers(request: HttpRequest) -> dict[str, str]:
    return {
        k: v for k, v in request.headers.items() if k.lower() not in {"cookie", "authorization"}
    }


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


@csrf_exempt
@require_POST
def receive(request: HttpRequest, provider: str, connection_id: str) -> JsonResponse:
    spec = PROVIDERS.get(provider)
    if spec is None:
        return JsonResponse({"error": f"Unknown provider {provider!r}"}, status=404)
    try:
        public_id = uuid.UUID(connection_id)
    except ValueError:
        return JsonResponse({"error": "No such connection"}, status=404)
    connection = (
        Connection.objects.select_related("tenant")
        .filter(public_id=public_id, provider=provider, is_active=True)
        .first()
    )
    if connection is None:
        return JsonResponse({"error": "No such connection"}, status=404)

    raw = request.body
    body_text = raw.decode("utf-8", errors="replace")
    delivery_id = request.headers.get(spec.delivery_header, "")[:128]
    topic = request.headers.get(spec.topic_header, "")[:64]
    headers = _kept_headers(request)

    def keep(status: str, error: str = "") -> WebhookEvent:
        return WebhookEvent.objects.create(
            connection=connection,
            provider=provider,
            delivery_id=delivery_id,
            topic=topic,
            headers=headers,
            body=body_text,
            status=status,
            error=error,
        )

    if spec.verify_request is not None:
        verified = spec.verify_request(connection, request)
    else:
        verified = spec.verify(
            connection.webhook_secret, raw, request.headers.get(spec.signature_header, "")
        )
    if not verified:
        keep(WebhookEvent.Status.REJECTED, "Signature mismatch")
        return JsonResponse({"error": "Invalid signature"}, status=401)
    try:
        payload = spec.parse(raw) if spec.parse else json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        keep(WebhookEvent.Status.REJECTED, f"Malformed JSON: {exc}")
        return JsonResponse({"error": "Body must be a JSON object"}, status=400)

    delivery = Delivery(
        connection=connection,
        topic=topic,
        payload=payload,
        headers=headers,
        triggered_at=_parse_time(request.headers.get(spec.triggered_at_header, ""))
        if spec.triggered_at_header
        else None,
    )
    # One transaction, one commit: the raw event and its effect land together
    # (a savepoint undoes only the effect when processing refuses the event).
    # An unexpected crash rolls both back and answers 500, so the provider
    # redelivers instead of the retry being taken for a duplicate.
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = keep(WebhookEvent.Status.RECEIVED)
        except IntegrityError:
            return JsonResponse({"status": "duplicate"}, status=200)
        try:
            with transaction.atomic():
                spec.process(delivery)
        except Ignored as exc:
            _finish(event, WebhookEvent.Status.PROCESSED, f"Ignored: {exc}")
            return JsonResponse({"status": "ignored", "reason": str(exc)}, status=200)
        except (KeyError, ValueError, TypeError) as exc:
            _finish(event, WebhookEvent.Status.FAILED, f"{type(exc).__name__}: {exc}")
            return JsonResponse({"error": f"Cannot process: {exc}"}, status=422)
        _finish(event, WebhookEvent.Status.PROCESSED)
    return JsonResponse({"status": "processed"}, status=200)


def _finish(event: WebhookEvent, status: str, error: str = "") -> None:
    event.status = status
    event.error = error
    event.save(update_fields=["status", "error"])
