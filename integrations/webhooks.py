"""Webhook intake: verify, keep the raw delivery, acknowledge; a worker applies it.

Every delivery is stored, valid or not, so nothing a provider sent is ever
lost; a redelivery of an accepted event is acknowledged and not processed
again. Answers: 401 bad signature, 400 malformed body, 200 ``accepted`` for
a first delivery, 200 ``duplicate`` for a redelivery. What processing makes
of an accepted event (processed, ignored as stale or about data we do not
hold, failed with the reason) is written on the event row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations import providers
from integrations.models import Connection, WebhookEvent

logger = logging.getLogger(__name__)


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
    # For providers that send no delivery-id header: the id read from the
    # body (EasyPost's event id) or a digest of it (``body_digest``), so a
    # redelivery is still answered ``duplicate`` and applied once.
    delivery_id_from: Callable[[bytes, dict], str] | None = None
    # For providers that prove a URL with a GET before they post to it (Adobe
    # I/O Events echoes a challenge): answers that GET.
    handshake: Callable[[Connection, HttpRequest], HttpResponse] | None = None


def body_digest(raw: bytes, payload: dict) -> str:
    """A delivery id for providers that give none: the same bytes are the same delivery."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


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


# Connections looked up by the intake, kept briefly per process: at a few
# hundred deliveries a second, reading and decrypting the same row for each
# one is most of an acknowledgement's cost. A change to a connection (secret
# rotated, deactivated) reaches every process within CONNECTION_TTL seconds,
# and this process at once.
CONNECTION_TTL = 5.0
_recent: dict[tuple[str, str], tuple[float, Connection | None]] = {}


def _connection(provider: str, connection_id: str) -> Connection | None:
    key = (provider, connection_id)
    now = time.monotonic()
    cached = _recent.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        public_id = uuid.UUID(connection_id)
    except ValueError:
        return None
    connection = (
        Connection.objects.select_related("tenant")
        .filter(public_id=public_id, provider=provider, is_active=True)
        .first()
    )
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[key] = (now + CONNECTION_TTL, connection)
    return connection


@receiver([post_save, post_delete], sender=Connection)
def _forget_connection(sender, instance: Connection, **kwargs) -> None:
    _recent.clear()


@csrf_exempt
@require_http_methods(["GET", "POST"])
def receive(request: HttpRequest, provider: str, connection_id: str) -> JsonResponse:
    """Verify, keep and acknowledge; the effect is applied by a worker.

    Providers give a webhook a few seconds and redeliver what is not answered
    in time, so the request does only what decides the answer (signature,
    well-formed body, first delivery) and a single insert. The event row is
    its own queue entry: the task is sent once that row is committed, and
    events whose task was lost are picked up by the periodic sweep."""
    spec = providers.webhook(provider)
    if spec is None:
        return JsonResponse({"error": f"Unknown provider {provider!r}"}, status=404)
    connection = _connection(provider, connection_id)
    if connection is None:
        return JsonResponse({"error": "No such connection"}, status=404)
    if request.method == "GET":
        if spec.handshake is None:
            return JsonResponse({"error": "Webhooks are POSTed here"}, status=405)
        return spec.handshake(connection, request)

    raw = request.body
    delivery_id = request.headers.get(spec.delivery_header, "")[:128]
    topic = request.headers.get(spec.topic_header, "")[:128]

    def keep(status: str, error: str = "") -> WebhookEvent:
        return WebhookEvent.objects.create(
            connection=connection,
            provider=provider,
            delivery_id=delivery_id,
            topic=topic,
            headers=_kept_headers(request),
            body=raw.decode("utf-8", errors="replace"),
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
        payload = _parse(spec, raw)
    except ValueError as exc:
        keep(WebhookEvent.Status.REJECTED, f"Malformed {_format(spec)}: {exc}")
        return JsonResponse({"error": "Body must be a JSON object"}, status=400)
    if not delivery_id and spec.delivery_id_from is not None:
        delivery_id = spec.delivery_id_from(raw, payload)[:128]
    try:
        # One autocommitted INSERT (no transaction around it): the row is
        # committed when it returns, and a redelivery fails on the unique
        # delivery id without having changed anything. Inside someone else's
        # transaction, a savepoint keeps that failure from spoiling it.
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                event = keep(WebhookEvent.Status.RECEIVED)
        else:
            event = keep(WebhookEvent.Status.RECEIVED)
    except IntegrityError:
        return JsonResponse({"status": "duplicate"}, status=200)
    transaction.on_commit(partial(_enqueue, event.pk))
    return JsonResponse({"status": "accepted", "event": event.pk}, status=200)


def _parse(spec: WebhookProvider, raw: bytes) -> dict:
    payload = spec.parse(raw) if spec.parse else json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError("not an object")
    return payload


def _format(spec: WebhookProvider) -> str:
    return "JSON" if spec.parse is None else "body"


def _enqueue(event_id: int) -> None:
    from integrations.tasks import process_webhook

    try:
        process_webhook.delay(event_id=event_id)
    except Exception:
        logger.warning("Webhook event %s kept; its task could not be queued", event_id)


# Attempts before an event that keeps crashing its processor is set aside as
# failed (the dead letter): it stays visible on the connection, and a
# provider's redelivery of it is processed afresh.
MAX_ATTEMPTS = 5


def _header(headers: dict[str, str], name: str) -> str:
    if not name:
        return ""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def process_event(event_id: int) -> str:
    """Apply one kept event; the answer says what became of it.

    Idempotent and safe in parallel: only an event still ``received`` is
    taken, under a row lock other workers skip. The attempt is counted in
    its own commit first, so an event that crashes the worker every time
    is still set aside after ``MAX_ATTEMPTS``."""
    claimed = WebhookEvent.objects.filter(pk=event_id, status=WebhookEvent.Status.RECEIVED).update(
        attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("connection__tenant")
            .filter(pk=event_id, status=WebhookEvent.Status.RECEIVED)
            .first()
        )
        if event is None:
            return "skipped"
        if event.attempts > MAX_ATTEMPTS:
            _finish(
                event,
                WebhookEvent.Status.FAILED,
                f"Set aside after {MAX_ATTEMPTS} attempts that did not finish",
            )
            return "dead-lettered"
        spec = providers.webhook(event.provider)
        if spec is None:
            _finish(
                event, WebhookEvent.Status.FAILED, f"Provider {event.provider!r} takes no webhooks"
            )
            return "failed"
        try:
            payload = _parse(spec, event.body.encode())
        except ValueError as exc:
            _finish(event, WebhookEvent.Status.FAILED, f"Malformed {_format(spec)}: {exc}")
            return "failed"
        delivery = Delivery(
            connection=event.connection,
            topic=event.topic,
            payload=payload,
            headers=event.headers,
            triggered_at=_parse_time(_header(event.headers, spec.triggered_at_header)),
        )
        try:
            with transaction.atomic():
                spec.process(delivery)
        except Ignored as exc:
            _finish(event, WebhookEvent.Status.PROCESSED, f"Ignored: {exc}")
            return "ignored"
        except (KeyError, ValueError, TypeError) as exc:
            _finish(event, WebhookEvent.Status.FAILED, f"{type(exc).__name__}: {exc}")
            return "failed"
        _finish(event, WebhookEvent.Status.PROCESSED)
    return "processed"


def process_waiting(*, older_than: timedelta = timedelta(seconds=60), limit: int = 500) -> int:
    """Apply events kept more than ``older_than`` ago and still waiting, oldest
    first: their task was lost (broker down at commit, worker killed)."""
    cutoff = timezone.now() - older_than
    ids = list(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, received_at__lte=cutoff)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        process_event(event_id)
    return len(ids)


def _finish(event: WebhookEvent, status: str, error: str = "") -> None:
    event.status = status
    event.error = error
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at"])
