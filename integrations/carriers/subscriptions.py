"""Keeping push subscriptions alive, for carriers that push only what they were asked to watch.

UPS Track Alert pushes scans only for the 1Z numbers subscribed to it, and
only for 14 days after each subscription. Beat runs
``integrations.subscribe_tracking_pushes`` every few minutes; for each
tenant's active connection to such a carrier (with the credential the
carrier echoes on every push) each run

1. claims the shipments that need asking, a batch at a time: still moving
   (never delivered or expired ones), a number the carrier can watch, and
   either never accepted, accepted long enough ago that the subscription
   is about to lapse, or accepted before the connection was made (a
   reconnected carrier pushes to the new connection's URL only once asked
   again). The claim stamps ``push_asked_at`` in a short transaction
   (``select_for_update(skip_locked=True)``), so overlapping runs never ask
   for the same number and no row stays locked across the HTTP call;
2. asks the carrier for the batch, as many numbers a call as it takes,
   through the connection's client and so within its shared rate limit;
3. records ``push_subscribed_at`` for the numbers the carrier accepted.
   Refused numbers are asked again after ``ASK_AGAIN_AFTER``. A call that
   got no answer (rate limited, carrier down) gives its batch back and
   ends the connection's turn until the next run; a refused connection
   (credentials) waits ``ASK_AGAIN_AFTER`` too.

Nothing here touches the polling schedule: a shipment keeps being polled
until pushes actually arrive (``integrations.carriers.push``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from integrations.carriers import registry
from integrations.carriers.client import ClientError, TransientError
from integrations.carriers.ups import webhook as ups_webhook
from integrations.models import Connection, Shipment, TrackingStatus

log = logging.getLogger(__name__)

# Renew this long before a subscription lapses: runs every few minutes can
# miss a few (workers busy, carrier down) without a gap in the pushes.
RENEW_BEFORE = timedelta(days=1)
# A number the carrier refused, or a batch whose worker died mid-call.
ASK_AGAIN_AFTER = timedelta(hours=6)
SETTLED = (TrackingStatus.DELIVERED, TrackingStatus.EXPIRED)


@dataclass(frozen=True)
class Subscriber:
    """A carrier that pushes only numbers subscribed to it, for a while."""

    carrier: str  # our code, which is also the connection's provider
    subscribe: Callable[[Connection, list[str]], tuple[list[str], list[str]]]
    max_numbers: int
    lasts: timedelta
    number_pattern: str  # PostgreSQL regex of the numbers it can watch

    @property
    def carrier_codes(self) -> set[str]:
        return {self.carrier, *registry.get(self.carrier).aliases}


SUBSCRIBERS: tuple[Subscriber, ...] = (
    Subscriber(
        "ups",
        ups_webhook.subscribe,
        ups_webhook.MAX_NUMBERS,
        ups_webhook.SUBSCRIPTION_LASTS,
        ups_webhook.NUMBER_PATTERN,
    ),
)


@dataclass
class SubscribeStats:
    connections: int = 0
    asked: int = 0
    subscribed: int = 0
    refused: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {
            "errors": self.errors[:20]
        }


def connections_for(subscriber: Subscriber) -> list[Connection]:
    """Each tenant's first active connection to the carrier that has a push credential."""
    chosen: dict[int, Connection] = {}
    candidates = Connection.objects.filter(
        provider=subscriber.carrier,
        kind=Connection.Kind.CARRIER,
        is_active=True,
        tenant__is_active=True,
    ).order_by("tenant_id", "pk")
    for connection in candidates:
        # Credentials are encrypted: the secret can only be checked here.
        if connection.tenant_id not in chosen and connection.webhook_secret:
            chosen[connection.tenant_id] = connection
    return list(chosen.values())


def due(subscriber: Subscriber, connection: Connection, now: datetime) -> QuerySet[Shipment]:
    """The connection's shipments to ask the carrier about now."""
    renew = now - (subscriber.lasts - RENEW_BEFORE)
    return (
        Shipment.objects.filter(
            tenant_id=connection.tenant_id,
            carrier__in=subscriber.carrier_codes,
            tracking_number__iregex=subscriber.number_pattern,
        )
        .exclude(status__in=SETTLED)
        .filter(
            Q(push_subscribed_at__isnull=True)
            | Q(push_subscribed_at__lte=renew)
            | Q(push_subscribed_at__lt=connection.created_at)
        )
        .filter(Q(push_asked_at__isnull=True) | Q(push_asked_at__lte=now - ASK_AGAIN_AFTER))
    )


def subscribe_due(*, now: datetime | None = None, deadline: float | None = None) -> SubscribeStats:
    """One run: ask each carrier to watch every shipment that needs it.

    Safe to run in parallel and twice: claims are exclusive and asking a
    carrier to watch a number it already watches only renews it. Never
    raises for a carrier's failure: what was not asked for comes back on a
    later run. ``deadline`` (a ``time.monotonic()`` value) stops early."""
    now = now or timezone.now()
    stats = SubscribeStats()
    for subscriber in SUBSCRIBERS:
        for connection in connections_for(subscriber):
            if deadline is not None and time.monotonic() > deadline:
                return stats
            stats.connections += 1
            _subscribe_connection(subscriber, connection, stats, now, deadline)
    return stats


def _claim(subscriber: Subscriber, connection: Connection, now: datetime) -> dict[str, list[int]]:
    """Stamp up to one call's worth of due shipments as asked; number -> shipment ids."""
    with transaction.atomic():
        rows = list(
            due(subscriber, connection, now)
            .select_for_update(skip_locked=True)
            .order_by(F("push_subscribed_at").asc(nulls_first=True), "pk")
            .values_list("pk", "tracking_number")[: subscriber.max_numbers]
        )
        Shipment.objects.filter(pk__in=[pk for pk, _ in rows]).update(push_asked_at=now)
    claimed: dict[str, list[int]] = {}
    for pk, number in rows:
        # One number may be held twice by a tenant (under a carrier alias).
        claimed.setdefault(number.strip().upper(), []).append(pk)
    return claimed


def _subscribe_connection(
    subscriber: Subscriber,
    connection: Connection,
    stats: SubscribeStats,
    now: datetime,
    deadline: float | None,
) -> None:
    while deadline is None or time.monotonic() <= deadline:
        claimed = _claim(subscriber, connection, now)
        if not claimed:
            return
        ids = [pk for pks in claimed.values() for pk in pks]
        stats.asked += len(claimed)
        try:
            accepted, refused = subscriber.subscribe(connection, list(claimed))
        except TransientError as exc:
            # No answer: give the batch back for the next run, and stop asking
            # this carrier for now (it is rate limiting us or down).
            Shipment.objects.filter(pk__in=ids).update(push_asked_at=None)
            _failed(stats, connection, exc)
            return
        except ClientError as exc:
            # Refused credentials or request: the batch waits ASK_AGAIN_AFTER.
            _failed(stats, connection, exc)
            return
        except Exception as exc:  # a bug must not stop the other tenants' subscriptions
            log.exception("push subscriptions: connection %s", connection.pk)
            Shipment.objects.filter(pk__in=ids).update(push_asked_at=None)
            _failed(stats, connection, exc)
            return
        subscribed = [
            pk for number in accepted for pk in claimed.get(str(number).strip().upper(), [])
        ]
        Shipment.objects.filter(pk__in=subscribed).update(push_subscribed_at=now)
        stats.subscribed += len(subscribed)
        stats.refused += len(ids) - len(subscribed)
        if refused:
            log.info(
                "push subscriptions: %s refused %s numbers for connection %s: %s",
                subscriber.carrier,
                len(refused),
                connection.pk,
                ", ".join(map(str, refused[:10])),
            )


def _failed(stats: SubscribeStats, connection: Connection, exc: Exception) -> None:
    stats.failed += 1
    stats.errors.append(f"connection {connection.pk}: {exc}")
    log.warning("push subscriptions: connection %s: %s", connection.pk, exc)
