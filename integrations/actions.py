"""Writes to mirrored commerce and tracking data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction

from integrations.models import Connection, Shipment, TrackingEvent, TrackingStatus

# Statuses after which a shipment no longer moves on its own.
TERMINAL_STATUSES = {TrackingStatus.DELIVERED, TrackingStatus.EXPIRED}


def record_tracking_event(
    shipment: Shipment,
    *,
    occurred_at: datetime,
    status: str,
    description: str,
    substatus: str = "",
    carrier_code: str = "",
    city: str = "",
    region: str = "",
    country: str = "",
    raw: dict[str, Any] | None = None,
) -> TrackingEvent | None:
    """Store one scan and move the shipment's state forward.

    Idempotent: the same scan (shipment, time, carrier code) delivered twice is
    stored once and returns None the second time. A scan older than the newest
    one never overwrites the shipment's current status."""
    with transaction.atomic():
        locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
        try:
            with transaction.atomic():
                event = TrackingEvent.objects.create(
                    shipment=locked,
                    occurred_at=occurred_at,
                    status=status,
                    substatus=substatus,
                    carrier_code=carrier_code,
                    description=description,
                    city=city,
                    region=region,
                    country=country,
                    raw=raw or {},
                )
        except IntegrityError:
            return None
        if locked.last_event_at is None or occurred_at >= locked.last_event_at:
            locked.status = status
            locked.substatus = substatus
            locked.last_event_at = occurred_at
            if status == TrackingStatus.DELIVERED:
                locked.delivered_at = occurred_at
            if locked.shipped_at is None and status != TrackingStatus.INFO_RECEIVED:
                locked.shipped_at = occurred_at
            locked.save()
        shipment.refresh_from_db()
        # The nudge engine lives in agents, which this app must not import: by task name.
        transaction.on_commit(
            lambda: current_app.send_task(
                "agents.evaluate_nudges", kwargs={"tracking_event_id": event.pk}, queue="nudges"
            )
        )
        if status == TrackingStatus.DELIVERED:
            # A returned parcel arriving ends the desk's wait on the carrier (by name, too).
            transaction.on_commit(
                lambda: current_app.send_task(
                    "desk.carrier_delivered", kwargs={"shipment_id": locked.pk}, queue="actions"
                )
            )
        return event


def create_connection(
    tenant, *, provider: str, kind: str, name: str, credentials: dict, actor
) -> Connection:
    """Connect a provider for ``tenant``; credentials are encrypted at rest and the
    audit row names only which fields were given, never their values."""
    from tenants.actions import audit

    with transaction.atomic():
        connection = Connection.objects.create(
            tenant=tenant, provider=provider, kind=kind, name=name, credentials=credentials
        )
        audit(
            tenant,
            actor,
            "connection.create",
            connection,
            {"provider": provider, "fields": sorted(credentials)},
        )
    return connection
