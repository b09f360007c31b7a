"""Writes to mirrored commerce and tracking data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import Q

from integrations.carriers import overrides
from integrations.models import (
    CarrierCodeOverride,
    Connection,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)

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
                    follow_up_due=True,
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
        # The follow-ups (nudges, a returned parcel ending the desk's wait) live in
        # agents, which this app must not import: by task name.
        transaction.on_commit(
            lambda: current_app.send_task(
                "agents.follow_up_scan", kwargs={"tracking_event_id": event.pk}
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


# --- carrier code overrides ------------------------------------------------

REAPPLY_BATCH = 500


def _events_to_remap(override: CarrierCodeOverride):
    """Scans under the override's code that do not read as it says yet: the
    unmapped ones, and those an earlier version of the override mapped."""
    stale = Q(raw__override=True) & ~Q(status=override.status, substatus=override.substatus)
    return TrackingEvent.objects.filter(
        Q(raw__is_mapped=False) | stale, carrier_code=override.code, raw__carrier=override.carrier
    )


def map_carrier_code(
    actor, *, carrier: str, code: str, status: str, substatus: str = ""
) -> CarrierCodeOverride:
    """Give an unmapped carrier code our status (create or change the override).

    Audited in every merchant whose stored scans carry the code, since their
    shipments' statuses may change; the stored scans are re-mapped in the
    background (``integrations.apply_carrier_code_override``), enqueued on
    commit. Saving the same mapping twice changes nothing but the audit."""
    from tenants.actions import audit
    from tenants.models import Tenant

    with transaction.atomic():
        override = (
            CarrierCodeOverride.objects.select_for_update()
            .filter(carrier=carrier, code=code)
            .first()
        )
        previous = (override.status, override.substatus) if override else None
        if override is None:
            override = CarrierCodeOverride(carrier=carrier, code=code, created_by=actor.user)
        override.status, override.substatus = status, substatus
        override.save()
        tenants = Tenant.objects.filter(
            pk__in=_events_to_remap(override).values("shipment__tenant_id")
        )
        for tenant in tenants:
            audit(
                tenant,
                actor,
                "carrier_code.mapped",
                override,
                {
                    "carrier": carrier,
                    "code": code,
                    "status": status,
                    "substatus": substatus,
                    "previous": list(previous) if previous else None,
                },
            )
        transaction.on_commit(overrides.forget)
        transaction.on_commit(
            lambda: current_app.send_task(
                "integrations.apply_carrier_code_override",
                kwargs={"override_id": override.pk},
                queue="actions",
            )
        )
    return override


def reapply_carrier_code_override(override_id: int, *, batch: int = REAPPLY_BATCH) -> int:
    """Re-map one batch of stored scans under the override's code that do not read as it says.

    Returns how many scans changed; 0 means none is left that could be
    claimed. Scans another transaction holds are skipped (``SKIP LOCKED``)
    and picked up by a later batch. Each touched shipment takes the status of
    its newest scan again, as ``record_tracking_event`` would have set it."""
    override = CarrierCodeOverride.objects.filter(pk=override_id).first()
    if override is None:
        return 0
    with transaction.atomic():
        events = list(
            _events_to_remap(override).select_for_update(skip_locked=True).order_by("pk")[:batch]
        )
        for event in events:
            event.status, event.substatus = override.status, override.substatus
            event.raw = {**event.raw, "is_mapped": True, "override": True}
        TrackingEvent.objects.bulk_update(events, ["status", "substatus", "raw"])
        shipment_ids = sorted({e.shipment_id for e in events})
        for shipment in (
            Shipment.objects.select_for_update().filter(pk__in=shipment_ids).order_by("pk")
        ):
            newest = shipment.events.order_by("-occurred_at", "-pk").first()
            if newest is None or (newest.status, newest.substatus) == (
                shipment.status,
                shipment.substatus,
            ):
                continue
            shipment.status, shipment.substatus = newest.status, newest.substatus
            if newest.status == TrackingStatus.DELIVERED and shipment.delivered_at is None:
                shipment.delivered_at = newest.occurred_at
            shipment.save(update_fields=["status", "substatus", "delivered_at"])
    return len(events)
