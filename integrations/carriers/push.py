"""Pushed tracking: what carrier and aggregator webhooks share once a delivery is verified.

A provider's ``webhook.py`` reads its own body, puts the tracking object in
the response shape its polling mapping already reads, and hands the mapped
result to ``apply``: the tenant's shipment is found by tracking number (and
carrier, for a carrier's own push), every scan is stored through the same
idempotent path as polling (``polling.store_result``, which never moves a
shipment backwards), and the shipment's next poll moves out, since the
provider now tells us when something changes. Polling stays on as the
safety net for pushes that never arrive."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

import redis
from django.db import transaction
from django.utils import timezone

from integrations.carriers import polling, registry
from integrations.carriers.schema import Outcome, TrackingResult
from integrations.models import Shipment, TrackingStatus

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

log = logging.getLogger(__name__)

# A shipment whose provider pushes is still polled, but only as a safety net.
POLL_EVERY_WHEN_PUSHED = timedelta(hours=12)


def apply(delivery: Delivery, result: TrackingResult, *, carrier: str = "") -> int:
    """Store a pushed result on the tenant's shipment(s); returns how many scans were new.

    ``carrier`` (our code) narrows the match for a carrier's own push; an
    aggregator's push matches on the tracking number alone. A number we do
    not hold is ``Ignored`` (kept and visible on the connection); a result
    that is not a found tracking is ignored too."""
    from integrations.webhooks import Ignored

    if result.outcome != Outcome.FOUND:
        raise Ignored(f"{result.carrier} pushed {result.outcome}: {result.message}".strip())
    number = result.tracking_number.strip()
    if not number:
        raise ValueError("the pushed tracking carries no tracking number")
    shipments = Shipment.objects.filter(
        tenant=delivery.connection.tenant, tracking_number__in={number, number.upper()}
    )
    if carrier:
        codes = {carrier, *registry.get(carrier).aliases}
        shipments = shipments.filter(carrier__in=codes)
    shipments = list(shipments.order_by("pk"))
    if not shipments:
        raise Ignored(f"No shipment with tracking number {number}")
    stored = sum(polling.store_result(shipment, result) for shipment in shipments)
    transaction.on_commit(partial(_poll_later, [s.pk for s in shipments]))
    return stored


def _poll_later(shipment_ids: list[int]) -> None:
    """Move pushed shipments' next poll out; the schedule is derived state, so
    a Redis hiccup here only means one poll sooner than needed."""
    now = timezone.now()
    try:
        schedule = polling.Schedule()
        for shipment in Shipment.objects.filter(pk__in=shipment_ids).only(
            "pk", "status", "delivered_at", "last_event_at"
        ):
            when = polling.next_due(shipment, now)
            if when is None:
                schedule.drop(shipment.pk)
                continue
            if shipment.status != TrackingStatus.DELIVERED:
                when = max(when, now + POLL_EVERY_WHEN_PUSHED)
            schedule.set_due({shipment.pk: when.timestamp()})
    except redis.RedisError:
        log.warning("pushed tracking: could not reschedule shipments %s", shipment_ids)
