"""Read-side querysets over shipments for the desk's boards.

The problem board asks the database the same questions ``incident_flags``
asks of one shipment's event stream, using the fields every scan keeps up to
date on the shipment (status, last scan, estimated delivery), so it stays an
index lookup however many shipments a merchant has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.fields.json import KT

from integrations.carriers.schema import NOT_SCANNED_DAYS, STALLED_DAYS
from integrations.models import Shipment, TrackingEvent, TrackingStatus
from tenants.models import Tenant

S = TrackingStatus

# A shipment in one of these has been scanned and is still on its way.
MOVING = (
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.FAILED_ATTEMPT,
    S.AVAILABLE_FOR_PICKUP,
    S.EXCEPTION,
)
SETTLED = (S.DELIVERED, S.EXPIRED)
UNSCANNED = (S.PENDING, S.INFO_RECEIVED)


class Problem(models.TextChoices):
    EXCEPTION = "exception", "Exception"
    STALLED = "stalled", f"No scan for {STALLED_DAYS} days"
    LATE = "late", "Past its estimated delivery"
    FAILED_ATTEMPT = "failed_attempt", "Delivery attempt failed"
    NOT_SCANNED = "not_scanned", f"Label never scanned after {NOT_SCANNED_DAYS} days"


def problem_filter(kind: str, now: datetime) -> Q:
    """The condition for one problem kind, as of ``now``."""
    if kind == Problem.EXCEPTION:
        return Q(status=S.EXCEPTION)
    if kind == Problem.FAILED_ATTEMPT:
        return Q(status=S.FAILED_ATTEMPT)
    if kind == Problem.STALLED:
        return Q(status__in=MOVING, last_event_at__lt=now - timedelta(days=STALLED_DAYS))
    if kind == Problem.LATE:
        # Merchants promise dates in the customer's day; a date is late once it has passed.
        return ~Q(status__in=SETTLED) & Q(estimated_delivery__lt=now.date())
    if kind == Problem.NOT_SCANNED:
        cut = now - timedelta(days=NOT_SCANNED_DAYS)
        # The label's date is when it shipped, else when we first heard of it;
        # spelled as two conditions rather than COALESCE so indexes still apply.
        return Q(status__in=UNSCANNED) & (
            Q(shipped_at__lt=cut) | Q(shipped_at__isnull=True, created_at__lt=cut)
        )
    raise ValueError(f"unknown problem kind {kind!r}")


def any_problem(now: datetime) -> Q:
    q = Q()
    for kind in Problem.values:
        q |= problem_filter(kind, now)
    return q


def problems_of(shipment: Shipment, now: datetime) -> list[str]:
    """The kinds one loaded shipment belongs to (same rules as ``problem_filter``)."""
    kinds = []
    if shipment.status == S.EXCEPTION:
        kinds.append(Problem.EXCEPTION)
    if shipment.status == S.FAILED_ATTEMPT:
        kinds.append(Problem.FAILED_ATTEMPT)
    if (
        shipment.status in MOVING
        and shipment.last_event_at
        and shipment.last_event_at < now - timedelta(days=STALLED_DAYS)
    ):
        kinds.append(Problem.STALLED)
    if (
        shipment.status not in SETTLED
        and shipment.estimated_delivery
        and shipment.estimated_delivery < now.date()
    ):
        kinds.append(Problem.LATE)
    if shipment.status in UNSCANNED:
        label = shipment.shipped_at or shipment.created_at
        if label and label < now - timedelta(days=NOT_SCANNED_DAYS):
            kinds.append(Problem.NOT_SCANNED)
    return kinds


@dataclass(frozen=True)
class ProblemFilters:
    kind: str = ""  # '' = every kind
    carrier: str = ""


def problem_shipments(tenant: Tenant, filters: ProblemFilters, now: datetime) -> QuerySet:
    """The tenant's problem shipments, longest silent first."""
    condition = problem_filter(filters.kind, now) if filters.kind else any_problem(now)
    qs = Shipment.objects.filter(condition, tenant=tenant)
    if filters.carrier:
        qs = qs.filter(carrier=filters.carrier)
    return qs.select_related("order").order_by(
        models.F("last_event_at").asc(nulls_first=True), "pk"
    )


def problem_counts(tenant: Tenant, carrier: str, now: datetime) -> dict[str, int]:
    """How many shipments have each problem (a shipment may count under several).

    One count per kind rather than one pass with conditional aggregates: each
    count is an index scan of its own, where a single pass reads every
    shipment the merchant has."""
    counts = {}
    for kind in Problem.values:
        qs = Shipment.objects.filter(problem_filter(kind, now), tenant=tenant)
        if carrier:
            qs = qs.filter(carrier=carrier)
        counts[kind] = qs.count()
    return counts


def unmapped_codes() -> list[dict]:
    """Carrier codes stored unmapped, one row per (carrier, code), most frequent first.

    Each row: carrier, code, count, shipments, first_seen, last_seen and an
    example description."""
    rows = (
        TrackingEvent.objects.filter(raw__is_mapped=False)
        .exclude(carrier_code="")
        .values(carrier=KT("raw__carrier"), code=F("carrier_code"))
        .annotate(
            count=Count("pk"),
            shipments=Count("shipment_id", distinct=True),
            first_seen=Min("occurred_at"),
            last_seen=Max("occurred_at"),
            example=Max("description"),
        )
        .order_by("-count", "carrier", "code")
    )
    return list(rows)
