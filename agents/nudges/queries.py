"""Read side of the outbox report: outcomes per channel and trigger, and attribution."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q

from desk.models import Contact
from integrations.messaging.models import OutboundMessage
from integrations.models import Shipment
from tenants.models import Tenant

NUDGED = (OutboundMessage.State.SENT, OutboundMessage.State.DELIVERED)


def outcomes(tenant: Tenant, since: datetime) -> list[dict]:
    """One row per channel and trigger: queued, sent, delivered, failed, skipped."""
    rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for row in (
        OutboundMessage.objects.filter(tenant=tenant, created_at__gte=since)
        .values("channel", "trigger", "state")
        .annotate(n=Count("id"))
    ):
        rows[(row["channel"], row["trigger"])][row["state"]] += row["n"]
    return [
        {"channel": channel, "trigger": trigger, **counts}
        for (channel, trigger), counts in sorted(rows.items())
    ]


def skip_reasons(tenant: Tenant, since: datetime) -> list[dict]:
    return list(
        OutboundMessage.objects.filter(
            tenant=tenant, created_at__gte=since, state=OutboundMessage.State.SKIPPED
        )
        .values("skip_reason")
        .annotate(n=Count("id"))
        .order_by("-n")
    )


def attribution(tenant: Tenant, since: datetime) -> dict:
    """Contact rate of shipments that were nudged against those that were not.

    A shipment counts as contacted when a contact about its order was opened
    after it shipped; the difference is the WISMO the nudges prevented. One query."""
    nudged = OutboundMessage.objects.filter(shipment=OuterRef("pk"), state__in=NUDGED)
    contacted = Contact.objects.filter(
        order=OuterRef("order"), created_at__gte=OuterRef("created_at")
    )
    counts = (
        Shipment.objects.filter(tenant=tenant, created_at__gte=since)
        .annotate(is_nudged=Exists(nudged), is_contacted=Exists(contacted))
        .aggregate(
            nudged=Count("id", filter=Q(is_nudged=True)),
            nudged_contacted=Count("id", filter=Q(is_nudged=True, is_contacted=True)),
            other=Count("id", filter=Q(is_nudged=False)),
            other_contacted=Count("id", filter=Q(is_nudged=False, is_contacted=True)),
        )
    )

    def rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    counts["nudged_rate"] = rate(counts["nudged_contacted"], counts["nudged"])
    counts["other_rate"] = rate(counts["other_contacted"], counts["other"])
    return counts


def undelivered_replies(tenant: Tenant, since: datetime, *, limit: int = 50) -> list[dict]:
    """The desk's own messages (replies and surveys) that failed to reach the customer,
    latest first, each with its contact: someone must reach those customers another
    way. Two queries."""
    from desk.delivery import DESK_TRIGGER, message_pks_for
    from desk.models import Message

    failed = list(
        OutboundMessage.objects.filter(
            tenant=tenant,
            trigger=DESK_TRIGGER,
            state=OutboundMessage.State.FAILED,
            created_at__gte=since,
        ).order_by("-failed_at", "-pk")[:limit]
    )
    message_pk = {
        row.pk: next(iter(message_pks_for([row.idempotency_key])), None) for row in failed
    }
    # By the merchant as well: a key names a message, never which merchant owns it.
    messages = (
        Message.objects.select_related("contact")
        .filter(contact__tenant=tenant)
        .in_bulk([pk for pk in message_pk.values() if pk is not None])
    )
    rows = []
    for row in failed:
        message = messages.get(message_pk[row.pk])
        rows.append({"outbox": row, "contact": message.contact if message else None})
    return rows


def failed_nudges(tenant: Tenant, since: datetime, *, limit: int = 50) -> list[dict]:
    """Proactive messages that failed, latest first, each saying whether its parcel has
    moved on since (then it is not offered again). One query."""
    from agents.nudges.actions import nudges, parcel_moved_on

    failed = (
        nudges(tenant)
        .filter(state=OutboundMessage.State.FAILED, created_at__gte=since)
        .select_related("shipment")
        .order_by("-failed_at", "-pk")[:limit]
    )
    return [{"outbox": row, "moved_on": parcel_moved_on(row)} for row in failed]
