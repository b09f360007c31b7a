"""Webhook intake: keep the raw delivery, verify its signature, de-duplicate, process.

Every delivery is stored first, valid or not, so nothing a provider sent is
ever lost; a redelivery of an accepted event is acknowledged and not
processed again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.models import Connection, WebhookEvent
from integrations.sandbox import webhooks as sandbox_webhooks

# Per provider: (signature header, delivery id header, topic header, processor).
PROVIDERS: dict[str, tuple[str, str, str, Callable[[Connection, str, dict], None]]] = {
    Connection.Provider.SANDBOX_CARRIER: (
        "X-Desk-Hmac-Sha256",
        "X-Desk-Webhook-Id",
        "X-Desk-Topic",
        sandbox_webhooks.process,
    ),
}


def sign(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the raw body: Shopify's scheme, which the sandbox shares."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _kept_headers(request: HttpRequest) -> dict[str, str]:
    return {
        k: v for k, v in request.headers.items() if k.lower() not in {"cookie", "authorization"}
    }


@csrf_exempt
@require_POST
def receive(request: HttpRequest, provider: str, connection_id: str) -> JsonResponse:
    if provider not in PROVIDERS:
        return JsonResponse({"error": f"Unknown provider {provider!r}"}, status=404)
    try:
        public_id = uuid.UUID(connection_id)
    except ValueError:
        return JsonResponse({"error": "No such connection"}, status=404)
    connection = Connection.objects.filter(
        public_id=public_id, provider=provider, is_active=True
    ).first()
    if connection is None:
        return JsonResponse({"error": "No such connection"}, status=404)

    sig_header, id_header, topic_header, processor = PROVIDERS[provider]
    raw = request.body
    body_text = raw.decode("utf-8", errors="replace")
    delivery_id = request.headers.get(id_header, "")[:128]
    topic = request.headers.get(topic_header, "")[:64]
    given = request.headers.get(sig_header, "")
    expected = sign(connection.webhook_secret, raw)

    def keep(status: str, error: str = "") -> WebhookEvent:
        return WebhookEvent.objects.create(
            connection=connection,
            provider=provider,
            delivery_id=delivery_id,
            topic=topic,
            headers=_kept_headers(request),
            body=body_text,
            status=status,
            error=error,
        )

    if not given or not hmac.compare_digest(given, expected):
        keep(WebhookEvent.Status.REJECTED, "Signature mismatch")
        return JsonResponse({"error": "Invalid signature"}, status=401)
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        keep(WebhookEvent.Status.REJECTED, f"Malformed JSON: {exc}")
        return JsonResponse({"error": "Body must be a JSON object"}, status=400)

    try:
        with transaction.atomic():
            event = keep(WebhookEvent.Status.RECEIVED)
    except IntegrityError:
        return JsonResponse({"status": "duplicate"}, status=200)
    try:
        with transaction.atomic():
            processor(connection, topic, payload)
            WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.PROCESSED)
    except (KeyError, ValueError, TypeError) as exc:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        return JsonResponse({"error": f"Cannot process: {exc}"}, status=422)
    return JsonResponse({"status": "processed"}, status=200)
