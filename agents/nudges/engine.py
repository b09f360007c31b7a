"""Deciding nudges: which rule a scan or a delay triggers, and what becomes of it.

Both paths (a new scan, and the periodic sweep for time-based triggers) build
``Candidate`` nudges and hand them to ``decide``, which works in batches: a
handful of queries per batch, whatever its size, so a burst of scans or a
benchmark of 100,000 costs little per event.

Each candidate has a key, ``nudge:<shipment>:<trigger>`` (exceptions add the
substatus), unique per tenant in the outbox: a redelivered scan, a retried
task or two workers racing all land on the one message. Every decision is
written, sends and skips alike, and a skip says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from agents.nudges import templating
from agents.nudges.models import NudgeRule
from agents.nudges.timezones import customer_zone, quiet_until
from desk.models import Contact
from integrations.carriers.schema import Substatus
from integrations.messaging import actions as outbox
from integrations.messaging.models import (
    WHATSAPP_SESSION,
    Channel,
    ConversationWindow,
    OptOut,
    OutboundMessage,
)
from integrations.models import (
    Customer,
    Order,
    Refund,
    Shipment,
    TrackingEvent,
    TrackingStatus,
)
from tenants.models import Tenant

Trigger = NudgeRule.Trigger
Skip = OutboundMessage.SkipReason

# A scan's status → the trigger it fires.
STATUS_TRIGGER = {
    TrackingStatus.IN_TRANSIT: Trigger.SHIPPED,
    TrackingStatus.OUT_FOR_DELIVERY: Trigger.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: Trigger.DELIVERED,
    TrackingStatus.FAILED_ATTEMPT: Trigger.FAILED_ATTEMPT,
    TrackingStatus.EXCEPTION: Trigger.EXCEPTION,
    TrackingStatus.AVAILABLE_FOR_PICKUP: Trigger.AVAILABLE_FOR_PICKUP,
}
DELAY_TRIGGERS = (Trigger.LATE, Trigger.STALLED, Trigger.NOT_SCANNED)
# Backfilled history (a carrier catching up, a first import) must not wake
# customers up about what happened days ago.
MAX_EVENT_AGE = timedelta(hours=72)
# The sweep looks at shipments this recent; older ones are past helping.
SWEEP_HORIZON = timedelta(days=60)
SETTLED = (TrackingStatus.DELIVERED, TrackingStatus.EXPIRED)
MOVING = (
    TrackingStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY,
    TrackingStatus.FAILED_ATTEMPT,
    TrackingStatus.AVAILABLE_FOR_PICKUP,
)
OPEN_CONTACT = (Contact.Status.RECEIVED, Contact.Status.ESCALATED, Contact.Status.EXECUTING)
COUNTED = (
    OutboundMessage.State.QUEUED,
    OutboundMessage.State.SENDING,
    OutboundMessage.State.SENT,
    OutboundMessage.State.DELIVERED,
)


@dataclass
class Candidate:
    """A nudge a rule wants to send, before suppression, caps and quiet hours."""

    rule: NudgeRule
    tenant: Tenant
    key: str
    order: Order | None
    customer: Customer | None
    shipment: Shipment | None = None
    variables: dict[str, Any] = field(default_factory=dict)


def nudge_key(shipment_id: int, trigger: str, substatus: str = "") -> str:
    key = f"nudge:{shipment_id}:{trigger}"
    return f"{key}:{substatus or 'any'}" if trigger == Trigger.EXCEPTION else key


def variables_for(
    tenant: Tenant,
    order: Order | None,
    customer: Customer | None,
    shipment: Shipment | None,
    event: TrackingEvent | None = None,
    **extra: Any,
) -> dict[str, Any]:
    name = (customer.name if customer else "") or ""
    substatus = (event.substatus if event else shipment.substatus if shipment else "") or ""
    status = (event.status if event else shipment.status if shipment else "") or ""
    return {
        "customer_name": name or "there",
        "first_name": name.split()[0] if name.strip() else "there",
        "order_number": order.number if order else "",
        "carrier": shipment.carrier.upper() if shipment else "",
        "tracking_number": shipment.tracking_number if shipment else "",
        "status": TrackingStatus(status).label if status in TrackingStatus.values else status,
        "substatus": Substatus(substatus).label if substatus in Substatus.values else substatus,
        "estimated_delivery": (
            shipment.estimated_delivery.strftime("%d %b %Y")
            if shipment and shipment.estimated_delivery
            else ""
        ),
        "location": event.location if event else "",
        "merchant": tenant.name,
        **extra,
    }


def _rules_by_tenant(tenant_ids: Iterable[int], triggers: Iterable[str]) -> dict[int, list]:
    rules: dict[int, list[NudgeRule]] = defaultdict(list)
    for rule in NudgeRule.objects.filter(
        tenant_id__in=set(tenant_ids), is_active=True, trigger__in=set(triggers)
    ).order_by("id"):
        rules[rule.tenant_id].append(rule)
    return rules


def candidates_for_events(events: list[TrackingEvent], now: datetime) -> list[Candidate]:
    """The nudges these scans trigger: current, recent scans whose status a rule answers."""
    live = [
        e
        for e in events
        if e.status in STATUS_TRIGGER
        and now - e.occurred_at <= MAX_EVENT_AGE
        # Only the newest scan speaks: a late-arriving older one is history.
        and (e.shipment.last_event_at is None or e.occurred_at >= e.shipment.last_event_at)
    ]
    rules = _rules_by_tenant(
        (e.shipment.tenant_id for e in live), (STATUS_TRIGGER[e.status] for e in live)
    )
    candidates = []
    for event in live:
        shipment = event.shipment
        trigger = STATUS_TRIGGER[event.status]
        rule = next(
            (
                r
                for r in rules.get(shipment.tenant_id, [])
                if r.trigger == trigger and r.matches_substatus(event.substatus)
            ),
            None,
        )
        if rule is None:
            continue
        order = shipment.order
        candidates.append(
            Candidate(
                rule=rule,
                tenant=shipment.tenant,
                key=nudge_key(shipment.pk, trigger, event.substatus),
                order=order,
                customer=order.customer,
                shipment=shipment,
                variables=variables_for(shipment.tenant, order, order.customer, shipment, event),
            )
        )
    return candidates


def evaluate_events(
    event_ids: list[int], *, now: datetime | None = None, enqueue: bool = True
) -> list[OutboundMessage]:
    """Evaluate tracking events against their tenants' rules; returns the messages written.

    Idempotent: an event evaluated twice (or two events about the same shipment and
    trigger) yields one message. Missing events are ignored (a task may outlive its row)."""
    now = now or timezone.now()
    events = list(
        TrackingEvent.objects.filter(pk__in=event_ids).select_related(
            "shipment__tenant", "shipment__order__customer"
        )
    )
    return decide(candidates_for_events(events, now), now=now, enqueue=enqueue)


def _open_contacts(candidates: list[Candidate]) -> set[tuple]:
    customer_ids = {c.customer.pk for c in candidates if c.customer}
    order_ids = {c.order.pk for c in candidates if c.order}
    emails = {e for c in candidates for e in _emails(c)}
    if not (customer_ids or order_ids or emails):
        return set()
    found: set[tuple] = set()
    for tenant_id, customer_id, email, order_id in (
        Contact.objects.filter(
            tenant_id__in={c.tenant.pk for c in candidates}, status__in=OPEN_CONTACT
        )
        .alias(email_lower=Lower("customer_email"))
        .filter(
            Q(customer_id__in=customer_ids) | Q(order_id__in=order_ids) | Q(email_lower__in=emails)
        )
        .values_list("tenant_id", "customer_id", "customer_email", "order_id")
    ):
        found.update(
            {
                (tenant_id, "c", customer_id),
                (tenant_id, "o", order_id),
                (tenant_id, "e", email.lower()),
            }
        )
    return found


def _emails(c: Candidate) -> set[str]:
    emails = {c.customer.email if c.customer else "", c.order.email if c.order else ""}
    return {e.lower() for e in emails if e}


def _has_open_contact(c: Candidate, open_contacts: set[tuple]) -> bool:
    t = c.tenant.pk
    return (
        (c.customer is not None and (t, "c", c.customer.pk) in open_contacts)
        or (c.order is not None and (t, "o", c.order.pk) in open_contacts)
        or any((t, "e", e) in open_contacts for e in _emails(c))
    )


def _locales(c: Candidate) -> list[str]:
    raw = (c.order.raw or {}) if c.order else {}
    return [raw.get("customer_locale") or "", c.tenant.locale, "en"]


def decide(
    candidates: list[Candidate], *, now: datetime | None = None, enqueue: bool = True
) -> list[OutboundMessage]:
    """Turn candidate nudges into outbox messages: queued, held for quiet hours, or skipped.

    Runs in one transaction and locks the customers concerned (in id order, so
    concurrent batches cannot deadlock), so two workers cannot both pass a
    frequency cap. Keys already in the outbox are left alone."""
    now = now or timezone.now()
    if not candidates:
        return []
    with transaction.atomic():
        taken = set(
            OutboundMessage.objects.filter(
                tenant_id__in={c.tenant.pk for c in candidates},
                idempotency_key__in={c.key for c in candidates},
            ).values_list("tenant_id", "idempotency_key")
        )
        fresh: list[Candidate] = []
        for c in candidates:
            if (c.tenant.pk, c.key) not in taken:
                taken.add((c.tenant.pk, c.key))
                fresh.append(c)
        if not fresh:
            return []
        customer_ids = sorted({c.customer.pk for c in fresh if c.customer})
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        open_contacts = _open_contacts(fresh)
        tenant_ids = {c.tenant.pk for c in fresh}
        channels_by_tenant = outbox.configured_channels(list(tenant_ids))
        addresses = {
            outbox.address_for(ch, c.customer, c.order) for c in fresh for ch in c.rule.channels
        } - {""}
        opted_out = set(
            OptOut.objects.filter(tenant_id__in=tenant_ids, address__in=addresses).values_list(
                "tenant_id", "channel", "address"
            )
        )
        open_sessions = set(
            ConversationWindow.objects.filter(
                tenant_id__in=tenant_ids,
                channel=Channel.WHATSAPP,
                address__in=addresses,
                last_inbound_at__gt=now - WHATSAPP_SESSION,
            ).values_list("tenant_id", "address")
        )
        longest = max(c.rule.cap_hours for c in fresh)
        recent: dict[int, list[datetime]] = defaultdict(list)
        for customer_id, created_at in OutboundMessage.objects.filter(
            customer_id__in=customer_ids,
            state__in=COUNTED,
            created_at__gt=now - timedelta(hours=longest),
        ).values_list("customer_id", "created_at"):
            recent[customer_id].append(created_at)

        messages = []
        for c in fresh:
            draft = _draft(
                c, now, open_contacts, channels_by_tenant, opted_out, open_sessions, recent
            )
            if not draft.skip_reason and c.customer:
                recent[c.customer.pk].append(now)
            messages.append(draft.build(c.tenant, now))
        # Same key order in every batch: concurrent inserts of overlapping keys
        # then wait for each other instead of deadlocking.
        messages.sort(key=lambda m: (m.tenant_id, m.idempotency_key))
        OutboundMessage.objects.bulk_create(messages, ignore_conflicts=True)
        # ignore_conflicts leaves pk unset: read back the rows this call wrote.
        written = list(
            OutboundMessage.objects.filter(public_id__in=[m.public_id for m in messages])
        )
        if enqueue:
            outbox.enqueue_send_on_commit(
                [
                    m.pk
                    for m in written
                    if m.state == OutboundMessage.State.QUEUED and m.send_after is None
                ]
            )
    return written


def _draft(
    c: Candidate,
    now: datetime,
    open_contacts: set[tuple],
    channels_by_tenant: dict[int, set[str]],
    opted_out: set[tuple],
    open_sessions: set[tuple],
    recent: dict[int, list[datetime]],
) -> outbox.Draft:
    rule, tenant = c.rule, c.tenant
    locale = templating.pick_locale(rule.templates, _locales(c))
    template = rule.templates.get(locale, {}) if locale else {}
    draft = outbox.Draft(
        channel=(rule.channels or [Channel.EMAIL])[0],
        to="",
        body=templating.render(template.get("body", ""), c.variables),
        subject=templating.render(template.get("subject", ""), c.variables),
        locale=locale,
        idempotency_key=c.key,
        trigger=rule.trigger,
        customer=c.customer,
        shipment=c.shipment,
        order=c.order,
        context={
            "rule": str(rule.public_id),
            "shipment_status": c.shipment.status if c.shipment else "",
        },
    )
    if rule.suppress_while_contact_open and _has_open_contact(c, open_contacts):
        draft.skip_reason = Skip.OPEN_CONTACT
        return draft
    any_opted_out = False
    for channel in rule.channels:
        address = outbox.address_for(channel, c.customer, c.order)
        if channel not in channels_by_tenant.get(tenant.pk, set()) or not address:
            continue
        if (tenant.pk, channel, address) in opted_out:
            any_opted_out = True
            continue
        if (
            channel == Channel.WHATSAPP
            and (tenant.pk, address) not in open_sessions
            and not template.get("whatsapp_template")
        ):
            continue  # closed session and no approved template: WhatsApp cannot carry it
        draft.channel, draft.to = channel, address
        break
    if not draft.to:
        draft.skip_reason = Skip.OPTED_OUT if any_opted_out else Skip.NO_CHANNEL
        return draft
    if draft.channel == Channel.WHATSAPP:
        draft.template = template.get("whatsapp_template", "")
        draft.template_language = template.get("whatsapp_language", "") or locale
        draft.template_params = [
            str(c.variables.get(name, "")) for name in template.get("whatsapp_params", [])
        ]
    if c.customer is not None:
        window_start = now - timedelta(hours=rule.cap_hours)
        sent = sum(1 for at in recent.get(c.customer.pk, []) if at > window_start)
        if sent >= rule.cap_count:
            draft.skip_reason = Skip.FREQUENCY_CAP
            return draft
    zone = customer_zone(c.order.shipping_address if c.order else None, tenant.time_zone)
    until = quiet_until(now, zone, rule.quiet_start, rule.quiet_end)
    if until is not None:
        draft.send_after, draft.defer_reason = until, "quiet_hours"
    return draft


# --- time-based triggers ---------------------------------------------------------


def _delay_shipments(rule: NudgeRule, now: datetime, limit: int):
    already = OutboundMessage.objects.filter(
        tenant_id=rule.tenant_id, shipment=OuterRef("pk"), trigger=rule.trigger
    )
    shipments = (
        Shipment.objects.filter(tenant_id=rule.tenant_id, created_at__gt=now - SWEEP_HORIZON)
        .exclude(status__in=SETTLED)
        .exclude(Exists(already))
        .select_related("tenant", "order__customer")
    )
    cutoff = now - timedelta(days=rule.delay_days)
    if rule.trigger == Trigger.LATE:
        zone = customer_zone(None, rule.tenant.time_zone)
        shipments = shipments.filter(estimated_delivery__lt=now.astimezone(zone).date())
    elif rule.trigger == Trigger.STALLED:
        shipments = shipments.filter(status__in=MOVING, last_event_at__lt=cutoff)
    else:
        shipments = (
            shipments.filter(status__in=(TrackingStatus.PENDING, TrackingStatus.INFO_RECEIVED))
            .alias(since=Coalesce("last_event_at", "created_at"))
            .filter(since__lt=cutoff)
        )
    return shipments.order_by("pk")[:limit]


def sweep(*, now: datetime | None = None, limit: int = 2000, enqueue: bool = True) -> dict:
    """Nudges no scan announces: late, stalled and never-scanned shipments, and refunds.

    Safe to run twice or in parallel: keys make each nudge once, and shipments
    already nudged for a trigger are not looked at again."""
    now = now or timezone.now()
    counts: dict[str, int] = defaultdict(int)
    rules = NudgeRule.objects.filter(
        is_active=True, trigger__in=[*DELAY_TRIGGERS, Trigger.REFUND_ISSUED], tenant__is_active=True
    ).select_related("tenant")
    for rule in rules:
        candidates: list[Candidate] = []
        if rule.trigger == Trigger.REFUND_ISSUED:
            for refund in Refund.objects.filter(
                tenant_id=rule.tenant_id, created_at__gt=now - timedelta(days=3)
            ).select_related("order__customer")[:limit]:
                order = refund.order
                candidates.append(
                    Candidate(
                        rule=rule,
                        tenant=rule.tenant,
                        key=f"nudge:refund:{refund.pk}",
                        order=order,
                        customer=order.customer,
                        variables=variables_for(
                            rule.tenant,
                            order,
                            order.customer,
                            None,
                            refund_amount=f"{refund.amount} {refund.currency}",
                        ),
                    )
                )
        else:
            for shipment in _delay_shipments(rule, now, limit):
                order = shipment.order
                candidates.append(
                    Candidate(
                        rule=rule,
                        tenant=rule.tenant,
                        key=nudge_key(shipment.pk, rule.trigger),
                        order=order,
                        customer=order.customer,
                        shipment=shipment,
                        variables=variables_for(rule.tenant, order, order.customer, shipment),
                    )
                )
        counts[rule.trigger] += len(decide(candidates, now=now, enqueue=enqueue))
    return dict(counts)


def nudge_order(
    tenant: Tenant,
    trigger: str,
    *,
    order: Order,
    reference: str,
    now: datetime | None = None,
    **extra: Any,
) -> list[OutboundMessage]:
    """A case event worth telling the customer (a return label, a refund): once per
    ``reference``, by the tenant's first active rule for ``trigger``."""
    rule = (
        NudgeRule.objects.filter(tenant=tenant, trigger=trigger, is_active=True)
        .order_by("id")
        .first()
    )
    if rule is None:
        return []
    customer = order.customer
    candidate = Candidate(
        rule=rule,
        tenant=tenant,
        key=f"nudge:{trigger}:{reference}",
        order=order,
        customer=customer,
        variables=variables_for(tenant, order, customer, None, **extra),
    )
    return decide([candidate], now=now)
