"""Magento Open Source sends no webhooks: beat asks each store for the orders
updated since the last look and mirrors them.

The cursor is the store's ``updated_at`` of the newest order mirrored,
kept per connection in ``MirrorVersion`` (resource ``order_poll``) so it
only moves forward. Orders are searched with ``updated_at >= cursor``,
oldest change first; the order at the cursor is read again on the next
run (an order updated in the same second as it is not missed), and
``apply_order`` is stale-safe, so a re-read changes nothing. Every call
takes a slot in the store's shared bucket like any other request, so
polling queues behind the desk's own calls instead of adding a burst.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.commerce import ExecutionError
from integrations.magento import mapping
from integrations.models import Connection, MirrorVersion

logger = logging.getLogger(__name__)

PROVIDERS = ("magento",)
CURSOR = ("order_poll", "updated_at")
FIRST_LOOK_BACK = timedelta(days=1)  # a new connection starts with yesterday's changes
BATCH = 200  # orders per store per run; the rest waits for the next run
LEASE_SECONDS = 300  # longer than a run, so overlapping runs never poll one store twice


@dataclass
class PollStats:
    stores: int = 0
    orders: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"stores": self.stores, "orders": self.orders, "failed": self.failed}


def cursor(connection: Connection) -> datetime | None:
    row = MirrorVersion.objects.filter(
        connection=connection, resource=CURSOR[0], external_id=CURSOR[1]
    ).first()
    return row.version_at if row else None


def _advance(connection: Connection, to: datetime) -> None:
    with transaction.atomic():
        row, created = MirrorVersion.objects.select_for_update().get_or_create(
            connection=connection,
            resource=CURSOR[0],
            external_id=CURSOR[1],
            defaults={"version_at": to},
        )
        if not created and to > row.version_at:
            row.version_at = to
            row.save(update_fields=["version_at", "updated_at"])


def poll_connection(connection: Connection, *, limit: int = BATCH) -> int:
    """Mirror the store's orders updated since the cursor; how many were read.

    The cursor moves past each order once it is mirrored, so an error half
    way keeps what was done and the next run resumes at the order that failed."""
    from integrations.magento.adapter import MagentoAdapter

    adapter = MagentoAdapter(connection.tenant, connection)
    since = cursor(connection) or timezone.now() - FIRST_LOOK_BACK
    rows = adapter.client.orders_updated_since(mapping.format_time(since), limit=limit)
    for row in rows:
        adapter.mirror_order(row["entity_id"], order=row)
        stamp = mapping.parse_time(row.get("updated_at"))
        if stamp is not None:
            _advance(connection, stamp)
    return len(rows)


def poll_due(*, deadline: float, limit: int = BATCH) -> PollStats:
    """Poll every active connection of a provider without webhooks, until ``deadline``.

    Safe beside another run: each store is leased in the cache for the
    length of a run, and a store leased elsewhere is skipped."""
    stats = PollStats()
    connections = Connection.objects.select_related("tenant").filter(
        provider__in=PROVIDERS, is_active=True
    )
    for connection in connections.order_by("pk"):
        if time.monotonic() >= deadline:
            break
        lease = f"order-poll:{connection.pk}"
        if not cache.add(lease, 1, timeout=LEASE_SECONDS):
            continue
        try:
            stats.orders += poll_connection(connection, limit=limit)
            stats.stores += 1
        except ExecutionError as exc:
            # Temporary or not, the cursor stays where it is; a store that
            # refuses permanently (revoked token) says why on every run.
            stats.failed[str(connection.public_id)] = str(exc)
            logger.warning("Order poll of connection %s failed: %s", connection.pk, exc)
        finally:
            cache.delete(lease)
    return stats
