"""Retention on the desk's side: personal data of old resolved contacts and raw
webhook deliveries, each past its merchant's window (Tenant.*_retention_days).

Rows are anonymised or blanked in place, never deleted: statements, the usage
ledger (append-only, never touched here) and the audit log keep pointing at
them. Work is claimed in small batches with SKIP LOCKED so a run never waits
on, or fights with, the desk working a row; whatever is skipped is picked up
by the next run. A second run finds nothing left to do."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from desk import privacy
from desk.models import Contact
from integrations.models import WebhookEvent
from tenants.models import Tenant

BATCH_SIZE = 200

# Deliveries whose connection was deleted belong to no merchant; they get the default.
DEFAULT_WEBHOOK_PAYLOAD_DAYS = Tenant._meta.get_field("webhook_payload_retention_days").default


def erase_expired_contacts(tenant: Tenant, now: datetime) -> int:
    """Anonymise resolved contacts of ``tenant`` closed before the window; returns
    how many. Open or reopened cases are never touched, however old."""
    cutoff = now - timedelta(days=tenant.personal_data_retention_days)
    expired = Contact.objects.filter(
        tenant=tenant,
        status=Contact.Status.RESOLVED,
        resolved_at__lt=cutoff,
        personal_data_erased_at__isnull=True,
    )
    erased = 0
    while True:
        with transaction.atomic():
            batch = list(
                expired.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not batch:
                return erased
            erased += privacy.erase_contacts(tenant, batch).get("contacts", 0)


def blank_expired_webhook_payloads(tenant: Tenant | None, now: datetime) -> int:
    """Blank body and headers of deliveries received before the window; provider,
    topic, delivery id, status and time stay. ``tenant=None``: orphaned ones."""
    days = tenant.webhook_payload_retention_days if tenant else DEFAULT_WEBHOOK_PAYLOAD_DAYS
    expired = WebhookEvent.objects.filter(received_at__lt=now - timedelta(days=days)).exclude(
        body=privacy.ERASED
    )
    if tenant is None:
        expired = expired.filter(connection__isnull=True)
    else:
        expired = expired.filter(connection__tenant=tenant)
    blanked = 0
    while True:
        with transaction.atomic():
            batch = list(
                expired.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH_SIZE]
            )
            if not batch:
                return blanked
            blanked += WebhookEvent.objects.filter(pk__in=batch).update(
                body=privacy.ERASED, headers={}
            )
