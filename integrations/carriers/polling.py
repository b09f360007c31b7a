"""Refreshing shipments from their carriers on a schedule, for carriers that do not push.

Each shipment still worth asking about has a due time in a Redis sorted set
(the schedule). Beat runs ``integrations.refresh_tracking`` every few
minutes; each run

1. enrolls shipments created since the last run (a cursor over ids),
2. claims the due shipments: an atomic Redis step moves them a lease into
   the future, so parallel runs never claim the same shipment and a
   crashed worker's shipments come back once the lease runs out,
3. locks them in the database in small batches with
   ``select_for_update(skip_locked=True)``: a shipment some other
   transaction is writing right now (a webhook, an overlapping run) is
   skipped and comes back with its lease,
4. asks the tenant's carrier connection (the carrier's own API first, else
   an aggregator), normalizes the answer and stores each scan through
   ``record_tracking_event``, which is idempotent and never moves a
   shipment backwards,
5. sets the next due time: within two hours while the shipment moves; after
   delivery a few looks with growing gaps (carriers correct delivery scans,
   returns start), then never again; expired shipments leave the schedule.

The schedule is derived state: if Redis loses it, the next run re-enrolls
every shipment from the database."""

from __future__ import annotations

import logging
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.utils import timezone

from integrations import health
from integrations.actions import record_tracking_event
from integrations.carriers import overrides
from integrations.carriers.client import (
    ClientError,
    PermanentError,
    TrackingClient,
    TransientError,
    client_for_connection,
)
from integrations.carriers.payloads import MalformedPayload
from integrations.carriers.schema import Outcome, TrackingResult
from integrations.models import Connection, Shipment, TrackingStatus
from integrations.providers import tracking_client_codes
from integrations.ratelimit import redis_client

log = logging.getLogger(__name__)

# The product promise: a moving shipment is never more than two hours stale.
REFRESH_EVERY = timedelta(hours=2)
# Jitter below the promise, so shipments enrolled together spread out.
REFRESH_JITTER = 0.15
# After delivery: look again at these delays from the delivery scan, then stop.
AFTER_DELIVERY = (timedelta(hours=6), timedelta(days=1), timedelta(days=3), timedelta(days=7))
LEASE = timedelta(minutes=10)
# Nothing to ask with (no connection, credentials refused): a person must act first.
UNCONFIGURED_RETRY = timedelta(hours=6)
TRANSIENT_RETRY = timedelta(minutes=10)
LOCK_BATCH = 10  # rows held across their HTTP calls: keep the lock window short
ENROLL_BATCH = 5000
# Aggregators track every carrier they support, ours without a client included;
# asked, in this order, when the tenant has no connection to the carrier itself.
AGGREGATORS = ("aftership", "17track", "easypost", "shipengine")


_MARKER = "enrolled"


class Schedule:
    """Shipment id -> next due time (epoch seconds), in a Redis sorted set."""

    # ARGV: now, limit, lease seconds. Due members are re-scored to now + lease
    # in the same step, which is what makes a claim exclusive.
    _CLAIM = """
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
    for _, id in ipairs(ids) do
      redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    end
    return ids
    """

    def __init__(self, client=None, name: str = "tracking-poll") -> None:
        prefix = os.environ.get("REDIS_KEY_PREFIX", "desk")
        self.key = f"{prefix}:{name}"
        self.cursor_key = f"{prefix}:{name}:cursor"
        self.redis = client or redis_client()

    def set_due(self, due: dict[int, float], *, only_new: bool = False) -> None:
        if due:
            self.redis.zadd(self.key, {str(k): v for k, v in due.items()}, nx=only_new)

    def drop(self, shipment_id: int) -> None:
        self.redis.zrem(self.key, str(shipment_id))

    def due_at(self, shipment_id: int) -> float | None:
        return self.redis.zscore(self.key, str(shipment_id))

    def claim(self, limit: int, *, now: float, lease: timedelta = LEASE) -> list[int]:
        ids = self.redis.eval(self._CLAIM, 1, self.key, now, limit, lease.total_seconds())
        return [int(i) for i in ids]

    def cursor(self) -> int:
        """The last shipment id enrolled; 0 (enroll everything) if the schedule was lost."""
        if not self.redis.exists(self.key):
            return 0
        return int(self.redis.get(self.cursor_key) or 0)

    def set_cursor(self, value: int) -> None:
        # The marker is never due (score +inf) and keeps the set in existence
        # when no shipment is left in it, so an empty schedule is not
        # mistaken for a lost one.
        self.redis.zadd(self.key, {_MARKER: float("inf")})
        self.redis.set(self.cursor_key, value)

    def clear(self) -> None:
        self.redis.delete(self.key, self.cursor_key)


def next_due(shipment: Shipment, now: datetime) -> datetime | None:
    """When to ask about ``shipment`` next; None: never (settled for good)."""
    if shipment.status == TrackingStatus.EXPIRED:
        return None
    if shipment.status == TrackingStatus.DELIVERED:
        delivered = shipment.delivered_at or shipment.last_event_at or now
        for delay in AFTER_DELIVERY:
            if delivered + delay > now:
                return delivered + delay
        return None
    return now + REFRESH_EVERY * (1 - random.uniform(0, REFRESH_JITTER))


def enroll_new(schedule: Schedule, *, now: datetime, batch: int = ENROLL_BATCH) -> int:
    """Add shipments created since the last run; rebuild if the schedule was lost."""
    cursor = schedule.cursor()
    rows = list(
        Shipment.objects.filter(pk__gt=cursor)
        .exclude(status=TrackingStatus.EXPIRED)
        .order_by("pk")
        .only("pk", "status", "delivered_at", "last_event_at")[:batch]
    )
    if not rows:
        return 0
    due = {}
    for shipment in rows:
        # A new shipment is due now; a delivered one at its next look.
        when = now if shipment.status != TrackingStatus.DELIVERED else next_due(shipment, now)
        if when is not None:
            due[shipment.pk] = when.timestamp()
    schedule.set_due(due, only_new=True)
    schedule.set_cursor(rows[-1].pk)
    return len(due)


@dataclass
class RunStats:
    enrolled: int = 0
    claimed: int = 0
    refreshed: int = 0
    events_stored: int = 0
    not_found: int = 0
    skipped_locked: int = 0
    unconfigured: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {
            "errors": self.errors[:20]
        }


class ClientPool:
    """One client per connection for the length of a run, chosen per shipment."""

    def __init__(self) -> None:
        self._clients: dict[int, TrackingClient] = {}
        # The connection behind the client handed out last, for its health.
        self.last_connection_id: int | None = None
        self._connections: dict[int, list[Connection]] = {}

    def for_shipment(self, shipment: Shipment) -> TrackingClient | None:
        connections = self._connections.get(shipment.tenant_id)
        if connections is None:
            connections = list(
                Connection.objects.filter(
                    tenant_id=shipment.tenant_id,
                    kind=Connection.Kind.CARRIER,
                    is_active=True,
                    provider__in=tracking_client_codes(),
                ).order_by("pk")
            )
            self._connections[shipment.tenant_id] = connections
        # The carrier's own API first: it is fresher than any aggregator.
        ranked = [c for c in connections if c.provider == shipment.carrier] + sorted(
            (c for c in connections if c.provider in AGGREGATORS),
            key=lambda c: AGGREGATORS.index(c.provider),
        )
        if not ranked:
            return None
        connection = ranked[0]
        if connection.pk not in self._clients:
            self._clients[connection.pk] = client_for_connection(connection)
        self.last_connection_id = connection.pk
        return self._clients[connection.pk]

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if close:
                close()


def store_result(shipment: Shipment, result: TrackingResult) -> int:
    """Record every timed scan of a found result, oldest first; returns how many were new.

    Codes the mapping does not know get the status staff gave them, if any."""
    overridden = {id(e) for e in overrides.apply(result, overrides.table())}
    stored = 0
    for event in reversed(result.events):
        if event.occurred_at is None:
            continue  # a scan without a time cannot be placed in the timeline
        raw = {"carrier": result.carrier, "event": event.raw, "is_mapped": event.is_mapped}
        if id(event) in overridden:
            raw["override"] = True  # so a later change of the mapping reaches it too
        loc = event.location
        created = record_tracking_event(
            shipment,
            occurred_at=event.occurred_at,
            status=event.status,
            substatus=event.substatus,
            description=(event.description or event.code)[:255],
            carrier_code=event.code[:32],
            city=loc.city[:80],
            region=loc.region[:80],
            country=loc.country[:2],
            raw=raw,
        )
        stored += created is not None
    return stored


def refresh_due(
    *,
    limit: int = 300,
    schedule: Schedule | None = None,
    now: datetime | None = None,
    deadline: float | None = None,
) -> RunStats:
    """One poll run: enroll, claim up to ``limit`` due shipments, refresh them.

    Safe to run in parallel and to run twice: claims are exclusive, rows
    another transaction holds are skipped, and storing scans is idempotent.
    ``deadline`` (a ``time.monotonic()`` value) stops the run early; what it
    did not reach comes back when its lease runs out."""
    schedule = schedule or Schedule()
    now = now or timezone.now()
    stats = RunStats()
    stats.enrolled = enroll_new(schedule, now=now)
    ids = schedule.claim(limit, now=now.timestamp())
    stats.claimed = len(ids)
    pool = ClientPool()
    try:
        for start in range(0, len(ids), LOCK_BATCH):
            if deadline is not None and time.monotonic() > deadline:
                break
            _refresh_batch(ids[start : start + LOCK_BATCH], schedule, pool, stats, now)
    finally:
        pool.close()
    return stats


def _refresh_batch(
    ids: list[int], schedule: Schedule, pool: ClientPool, stats: RunStats, now: datetime
) -> None:
    with transaction.atomic():
        shipments = list(
            Shipment.objects.select_for_update(skip_locked=True).filter(pk__in=ids).order_by("pk")
        )
        stats.skipped_locked += len(ids) - len(shipments)
        for shipment in shipments:
            when = _refresh_one(shipment, pool, stats, now)
            if when is None:
                schedule.drop(shipment.pk)
            else:
                schedule.set_due({shipment.pk: when.timestamp()})


def _refresh_one(shipment: Shipment, pool: ClientPool, stats: RunStats, now: datetime):
    """Refresh one locked shipment; returns its next due time (None: drop it)."""
    if shipment.status == TrackingStatus.EXPIRED:
        return None
    try:
        client = pool.for_shipment(shipment)
        if client is None:
            stats.unconfigured += 1
            return now + UNCONFIGURED_RETRY
        with health.observed(pool.last_connection_id):
            result = client.track(shipment.tracking_number, carrier=shipment.carrier)
    except TransientError as exc:
        stats.failed += 1
        stats.errors.append(f"{shipment.pk}: {exc}")
        return now + max(TRANSIENT_RETRY, timedelta(seconds=exc.retry_after or 0))
    except PermanentError as exc:
        stats.unconfigured += 1
        stats.errors.append(f"{shipment.pk}: {exc}")
        log.warning("tracking refresh: shipment %s: %s", shipment.pk, exc)
        return now + UNCONFIGURED_RETRY
    except (ClientError, MalformedPayload) as exc:
        stats.failed += 1
        stats.errors.append(f"{shipment.pk}: {exc}")
        log.warning("tracking refresh: shipment %s: %s", shipment.pk, exc)
        return now + REFRESH_EVERY
    if result.outcome == Outcome.FOUND:
        try:
            # A savepoint per shipment: one bad row cannot undo the batch.
            with transaction.atomic():
                stats.events_stored += store_result(shipment, result)
        except DatabaseError as exc:
            stats.failed += 1
            stats.errors.append(f"{shipment.pk}: {exc}")
            log.exception("tracking refresh: storing shipment %s failed", shipment.pk)
            return now + TRANSIENT_RETRY
        stats.refreshed += 1
        shipment.refresh_from_db(fields=["status", "delivered_at", "last_event_at"])
    elif result.outcome == Outcome.NOT_FOUND:
        # Labels are often created days before the first scan: keep asking.
        stats.not_found += 1
    else:
        stats.failed += 1
        stats.errors.append(f"{shipment.pk}: {result.error_code} {result.message}")
    return next_due(shipment, now)
