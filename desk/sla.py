"""SLA clocks: targets counted in the tenant's business time, paused while the
desk waits on someone else, and a sweep that records breaches and warns leads.

A clock keeps an absolute deadline (``due_at``) while it runs, so finding
breaches is one indexed comparison however many clocks exist, and nothing is
lost when a worker restarts: the next sweep sees every deadline that passed.
Time used before a pause lives in ``consumed_seconds``; resuming computes a
fresh deadline from what is left of the budget."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from desk import rollups
from desk.models import (
    Contact,
    Decision,
    Message,
    Priority,
    SlaAlert,
    SlaBreach,
    SlaClock,
    SlaPolicy,
)
from integrations.models import Shipment, TrackingStatus
from tenants.models import Membership, Tenant
from tenants.roles import Role

logger = logging.getLogger(__name__)

OPEN_STATUSES = (Contact.Status.RECEIVED, Contact.Status.ESCALATED, Contact.Status.EXECUTING)
WARN_AHEAD = timedelta(minutes=20)
BATCH = 500
# Targets that stop counting while the desk waits on the customer or the carrier;
# a first response cannot be waiting on anyone, and a carrier exception is ours to answer.
PAUSABLE = (SlaClock.Target.RESOLUTION, SlaClock.Target.DECISION)
# A safety stop for calendars with hardly any open time (a year of holidays).
MAX_CALENDAR_DAYS = 800


# --- business time ------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Open hours per weekday (0 = Monday) in one time zone, minus whole-day holidays.
    No hours at all means around the clock."""

    zone: ZoneInfo
    hours: dict[int, tuple[tuple[time, time | None], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def is_always_open(self) -> bool:
        return not self.hours and not self.holidays

    @classmethod
    def from_policy(cls, zone_name: str, hours: dict, holidays: list) -> Calendar:
        parsed: dict[int, tuple[tuple[time, time | None], ...]] = {}
        for day, intervals in (hours or {}).items():
            parsed[int(day)] = tuple(
                (_clock_time(start), None if end == "24:00" else _clock_time(end))
                for start, end in intervals
            )
        if parsed and not any(parsed.values()):
            raise ValueError("Business hours with no open interval on any day")
        return cls(
            zone=ZoneInfo(zone_name),
            hours=parsed,
            holidays=frozenset(date.fromisoformat(d) for d in holidays or []),
        )

    def _open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's open intervals as UTC instants (DST shifts fall out of zoneinfo)."""
        if day in self.holidays:
            return []
        intervals = self.hours.get(day.weekday(), ()) if self.hours else ((time.min, None),)
        out = []
        for start, end in intervals:
            begin = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
            finish = (
                datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.zone)
                if end is None
                else datetime.combine(day, end, tzinfo=self.zone)
            ).astimezone(UTC)
            if finish > begin:
                out.append((begin, finish))
        return out

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of open time after ``start``."""
        if self.is_always_open:
            return start + timedelta(seconds=seconds)
        cursor = start.astimezone(UTC)
        left = timedelta(seconds=seconds)
        day = cursor.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_CALENDAR_DAYS):
            for begin, finish in self._open_intervals(day):
                if finish <= cursor:
                    continue
                begin = max(begin, cursor)
                if finish - begin >= left:
                    return begin + left
                left -= finish - begin
                cursor = finish
            day += timedelta(days=1)
        raise ValueError("The calendar has no open time in the next two years")

    def between(self, start: datetime, end: datetime) -> float:
        """Open seconds between two instants."""
        if end <= start:
            return 0.0
        if self.is_always_open:
            return (end - start).total_seconds()
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta()
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for begin, finish in self._open_intervals(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total.total_seconds()


def _clock_time(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


# --- policies -----------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Budgets in seconds of business time, and the calendar they are counted in."""

    priority: str
    calendar: Calendar
    seconds: dict[str, int]


DEFAULT_MINUTES = {
    SlaClock.Target.FIRST_RESPONSE: 60,
    SlaClock.Target.RESOLUTION: 24 * 60,
    SlaClock.Target.CARRIER_RESPONSE: 4 * 60,
}


def targets_for(tenant: Tenant, priority: str) -> Targets:
    """The tenant's policy for ``priority`` (falling back to its normal-priority one).
    A tenant without any policy gets round-the-clock targets, with the decision
    target from ``Tenant.decision_sla_hours``."""
    policies = {p.priority: p for p in SlaPolicy.objects.filter(tenant=tenant)}
    policy = policies.get(priority) or policies.get(Priority.NORMAL)
    if policy is None:
        return Targets(
            priority=priority,
            calendar=Calendar(zone=ZoneInfo(tenant.time_zone)),
            seconds={
                **{k: v * 60 for k, v in DEFAULT_MINUTES.items()},
                SlaClock.Target.DECISION: tenant.decision_sla_hours * 3600,
            },
        )
    return Targets(
        priority=policy.priority,
        calendar=Calendar.from_policy(tenant.time_zone, policy.business_hours, policy.holidays),
        seconds={
            SlaClock.Target.FIRST_RESPONSE: policy.first_response_minutes * 60,
            SlaClock.Target.RESOLUTION: policy.resolution_minutes * 60,
            SlaClock.Target.DECISION: policy.decision_minutes * 60,
            SlaClock.Target.CARRIER_RESPONSE: policy.carrier_response_minutes * 60,
        },
    )


def priority_for(contact: Contact) -> str:
    """VIP customers and carrier exceptions go first; everything else is normal."""
    if contact.customer_id and contact.customer.is_vip:
        return Priority.HIGH
    if contact.intent == "delivery_exception":
        return Priority.HIGH
    return Priority.NORMAL


# --- opening, pausing, stopping ---------------------------------------------------------


def _new_clock(contact: Contact, target: str, targets: Targets, started_at: datetime) -> SlaClock:
    budget = targets.seconds[target]
    return SlaClock(
        tenant_id=contact.tenant_id,
        contact=contact,
        target=target,
        priority=targets.priority,
        budget_seconds=budget,
        started_at=started_at,
        running_since=started_at,
        due_at=targets.calendar.add(started_at, budget),
    )


def open_clocks(contact: Contact, targets_started: dict[str, datetime]) -> list[SlaClock]:
    """Open the given targets for a contact, each from its own start. Idempotent:
    a target that already has a clock keeps it (unique per contact and target)."""
    targets = targets_for(contact.tenant, priority_for(contact))
    clocks = [_new_clock(contact, t, targets, at) for t, at in targets_started.items()]
    SlaClock.objects.bulk_create(clocks, ignore_conflicts=True)
    return list(SlaClock.objects.filter(contact=contact, target__in=list(targets_started)))


def start_escalation_clocks(contact: Contact, now: datetime) -> datetime:
    """At escalation: first response and resolution count from the contact's arrival,
    the approval decision from now. Returns the decision deadline, the inbox's key.
    Must run inside the escalating transaction."""
    clocks = open_clocks(
        contact,
        {
            SlaClock.Target.FIRST_RESPONSE: contact.created_at,
            SlaClock.Target.RESOLUTION: contact.created_at,
            SlaClock.Target.DECISION: now,
        },
    )
    decision = next(c for c in clocks if c.target == SlaClock.Target.DECISION)
    return decision.due_at or now


def restart_decision_clock(contact: Contact, now: datetime) -> datetime:
    """A resolved contact came back: a new decision is due, so its decision clock runs
    again from now with its whole budget (opened, if it never had one). First response
    and resolution keep what they measured the first time; an earlier breach stays on
    record. Returns the new deadline. Must run inside the reopening transaction."""
    targets = targets_for(contact.tenant, priority_for(contact))
    fresh = _new_clock(contact, SlaClock.Target.DECISION, targets, now)
    clock = (
        SlaClock.objects.select_for_update()
        .filter(contact=contact, target=SlaClock.Target.DECISION)
        .first()
    )
    if clock is None:
        fresh.save()
        return fresh.due_at or now
    for name in ("priority", "budget_seconds", "started_at", "running_since", "due_at"):
        setattr(clock, name, getattr(fresh, name))
    clock.state, clock.pause_reason, clock.consumed_seconds = SlaClock.State.RUNNING, "", 0
    clock.warned_at = clock.breached_at = clock.stopped_at = None
    clock.save()
    return clock.due_at or now


def _calendar(clock: SlaClock) -> Calendar:
    return targets_for(clock.contact.tenant, clock.priority).calendar


def _consume(clock: SlaClock, now: datetime, calendar: Calendar) -> None:
    if clock.state == SlaClock.State.RUNNING and clock.running_since:
        used = calendar.between(clock.running_since, now)
        clock.consumed_seconds = min(
            clock.budget_seconds * 10, clock.consumed_seconds + round(used)
        )


def _locked_clocks(contact: Contact, **filters) -> list[SlaClock]:
    """The contact's clocks, locked; each carries the caller's contact (and so
    its tenant, which the calendars come from) instead of reading it again."""
    clocks = list(
        SlaClock.objects.select_for_update().filter(contact=contact, **filters).order_by("pk")
    )
    for clock in clocks:
        clock.contact = contact
    return clocks


@transaction.atomic
def pause_clocks(contact: Contact, reason: str, now: datetime | None = None) -> int:
    """Stop counting resolution and decision time while the desk waits on the
    customer or the carrier. Idempotent: paused clocks stay as they are."""
    now = now or timezone.now()
    clocks = _locked_clocks(contact, state=SlaClock.State.RUNNING, target__in=PAUSABLE)
    for clock in clocks:
        calendar = _calendar(clock)
        _consume(clock, now, calendar)
        clock.state = SlaClock.State.PAUSED
        clock.pause_reason = reason
        clock.running_since = clock.due_at = None
        clock.save(
            update_fields=["state", "pause_reason", "running_since", "due_at", "consumed_seconds"]
        )
        if clock.target == SlaClock.Target.DECISION:
            # The inbox orders by this key: show when it would fall due if the wait ended now.
            left = max(0, clock.budget_seconds - clock.consumed_seconds)
            Contact.objects.filter(pk=contact.pk).update(sla_due_at=calendar.add(now, left))
    return len(clocks)


@transaction.atomic
def resume_clocks(contact: Contact, now: datetime | None = None, reason: str | None = None) -> int:
    """The customer wrote back or the carrier moved: count again from what was left.
    With ``reason``, only clocks paused for that reason resume (a customer's
    message does not end a wait on the carrier). Idempotent: running clocks are
    left alone, so calling it for every inbound message is safe."""
    now = now or timezone.now()
    filters = {"pause_reason": reason} if reason else {}
    clocks = _locked_clocks(contact, state=SlaClock.State.PAUSED, **filters)
    for clock in clocks:
        left = max(0, clock.budget_seconds - clock.consumed_seconds)
        clock.state = SlaClock.State.RUNNING
        clock.pause_reason = ""
        clock.running_since = now
        clock.due_at = _calendar(clock).add(now, left)
        clock.save(update_fields=["state", "pause_reason", "running_since", "due_at"])
        if clock.target == SlaClock.Target.DECISION:
            Contact.objects.filter(pk=contact.pk).update(sla_due_at=clock.due_at)
    return len(clocks)


def _first_reply_at(contact_id: int) -> datetime | None:
    return (
        Message.objects.filter(contact_id=contact_id, direction=Message.Direction.OUTBOUND)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _stop(clock: SlaClock, at: datetime, now: datetime) -> SlaBreach | None:
    """Stop one locked clock at ``at``; a target met late is recorded as a breach
    here, since the sweep only looks at running clocks."""
    _consume(clock, at, _calendar(clock))
    late = clock.due_at is not None and at > clock.due_at and clock.breached_at is None
    clock.state = SlaClock.State.STOPPED
    clock.stopped_at = at
    clock.running_since = None
    fields = ["state", "stopped_at", "running_since", "consumed_seconds"]
    if late:
        clock.breached_at = now
        fields.append("breached_at")
    clock.save(update_fields=fields)
    if not late:
        return None
    rollups.note_change(clock.contact.tenant, now)
    breach, _ = SlaBreach.objects.get_or_create(
        contact_id=clock.contact_id,
        target=clock.target,
        defaults={"tenant_id": clock.tenant_id, "clock": clock, "due_at": clock.due_at},
    )
    return breach


def stop_clocks(contact: Contact, now: datetime | None = None) -> None:
    """The contact is resolved: every clock stops. First response stops at the first
    reply (if one went out earlier), the rest now. Runs inside the resolving transaction."""
    now = now or timezone.now()
    clocks = _locked_clocks(contact, state__in=[SlaClock.State.RUNNING, SlaClock.State.PAUSED])
    for clock in clocks:
        at = now
        if clock.target == SlaClock.Target.FIRST_RESPONSE:
            at = min(now, _first_reply_at(contact.pk) or now)
        _stop(clock, at, now)


@transaction.atomic
def open_carrier_clock(shipment: Shipment, now: datetime | None = None) -> list[SlaClock]:
    """An exception scan on a shipment: every open contact about its order gets a
    'respond within N hours' clock from the scan's time. Idempotent per contact."""
    now = now or timezone.now()
    started = shipment.last_event_at or now
    opened = []
    for contact in Contact.objects.select_related("tenant", "customer").filter(
        order_id=shipment.order_id, status__in=OPEN_STATUSES
    ):
        opened += open_clocks(contact, {SlaClock.Target.CARRIER_RESPONSE: started})
    return opened


# --- the sweep --------------------------------------------------------------------------


@dataclass
class SweepResult:
    opened: int = 0
    met: int = 0
    breached: int = 0
    warned: int = 0
    breached_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "breached_ids"}


def _open_missing_clocks(now: datetime, result: SweepResult) -> None:
    """Contacts the agent has not escalated yet still owe a first response and a
    resolution; exception scans of the last day owe the customer a word."""
    waiting = (
        Contact.objects.select_related("tenant", "customer")
        .filter(status__in=[Contact.Status.RECEIVED, Contact.Status.EXECUTING])
        .filter(created_at__lt=now - timedelta(minutes=1))
        .exclude(Exists(SlaClock.objects.filter(contact=OuterRef("pk"))))
        .order_by("created_at")[:BATCH]
    )
    for contact in waiting:
        with transaction.atomic():
            result.opened += len(
                open_clocks(
                    contact,
                    {
                        SlaClock.Target.FIRST_RESPONSE: contact.created_at,
                        SlaClock.Target.RESOLUTION: contact.created_at,
                    },
                )
            )
    carrier_clock = SlaClock.objects.filter(
        contact__order_id=OuterRef("order_id"), target=SlaClock.Target.CARRIER_RESPONSE
    )
    for shipment in (
        Shipment.objects.filter(
            status=TrackingStatus.EXCEPTION, last_event_at__gte=now - timedelta(days=1)
        )
        .filter(
            Exists(Contact.objects.filter(order_id=OuterRef("order_id"), status__in=OPEN_STATUSES))
        )
        .exclude(Exists(carrier_clock))[:BATCH]
    ):
        result.opened += len(open_carrier_clock(shipment, now))


def _stop_met_clocks(now: datetime, result: SweepResult) -> None:
    """A reply went out, or the decision was taken, without the contact resolving:
    stop those clocks at the moment it happened."""
    replied = Message.objects.filter(
        contact_id=OuterRef("contact_id"), direction=Message.Direction.OUTBOUND
    )
    decided = Contact.objects.filter(pk=OuterRef("contact_id")).exclude(
        status=Contact.Status.ESCALATED
    )
    with transaction.atomic():
        clocks = list(
            SlaClock.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("contact__tenant")
            .alias(then_replied=Exists(replied), then_decided=Exists(decided))
            .filter(state__in=[SlaClock.State.RUNNING, SlaClock.State.PAUSED])
            .filter(
                Q(target=SlaClock.Target.FIRST_RESPONSE, then_replied=True)
                | Q(target=SlaClock.Target.DECISION, then_decided=True)
            )[:BATCH]
        )
        for clock in clocks:
            if clock.target == SlaClock.Target.FIRST_RESPONSE:
                at = _first_reply_at(clock.contact_id) or now
            else:
                at = (
                    Decision.objects.filter(
                        proposal__contact_id=clock.contact_id, created_at__gte=clock.started_at
                    )
                    .order_by("created_at")
                    .values_list("created_at", flat=True)
                    .first()
                    or now
                )
            breach = _stop(clock, min(at, now), now)
            result.met += 1
            if breach is not None:
                result.breached += 1
                result.breached_ids.append(clock.pk)
                SlaAlert.objects.get_or_create(
                    clock=clock,
                    kind=SlaAlert.Kind.BREACH,
                    defaults={
                        "tenant_id": clock.tenant_id,
                        "contact_id": clock.contact_id,
                        "due_at": clock.due_at,
                    },
                )


def _mark(now: datetime, result: SweepResult, *, kind: str) -> int:
    """One batch of running clocks past their deadline (breach) or within
    WARN_AHEAD of it (warning), claimed with SKIP LOCKED so parallel sweeps share
    the work; the marks and the alerts commit together, so a crash between
    batches loses nothing and repeats nothing."""
    base = SlaClock.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        state=SlaClock.State.RUNNING, breached_at__isnull=True
    )
    if kind == SlaAlert.Kind.BREACH:
        batch = base.filter(due_at__lte=now)
    else:
        batch = base.filter(due_at__gt=now, due_at__lte=now + WARN_AHEAD, warned_at__isnull=True)
    with transaction.atomic():
        clocks = list(batch.order_by("due_at")[:BATCH])
        if not clocks:
            return 0
        ids = [c.pk for c in clocks]
        if kind == SlaAlert.Kind.BREACH:
            SlaClock.objects.filter(pk__in=ids).update(breached_at=now)
            SlaBreach.objects.bulk_create(
                [
                    SlaBreach(
                        tenant_id=c.tenant_id,
                        contact_id=c.contact_id,
                        clock=c,
                        target=c.target,
                        due_at=c.due_at,
                        breached_at=now,
                    )
                    for c in clocks
                ],
                ignore_conflicts=True,
            )
            for tenant in Tenant.objects.filter(pk__in={c.tenant_id for c in clocks}):
                rollups.note_change(tenant, now)
            result.breached += len(clocks)
            result.breached_ids += ids
        else:
            SlaClock.objects.filter(pk__in=ids).update(warned_at=now)
            result.warned += len(clocks)
        SlaAlert.objects.bulk_create(
            [
                SlaAlert(
                    tenant_id=c.tenant_id,
                    contact_id=c.contact_id,
                    clock=c,
                    kind=kind,
                    due_at=c.due_at,
                    created_at=now,
                )
                for c in clocks
            ],
            ignore_conflicts=True,
        )
        transaction.on_commit(lambda: notify_leads(ids, kind))
    return len(clocks)


def sweep(now: datetime | None = None, *, max_batches: int = 20) -> SweepResult:
    """Open missing clocks, stop met ones, then record breaches and warnings in
    batches. Safe to run twice or in parallel: rows are claimed with SKIP LOCKED
    and every mark is conditional on not being marked yet."""
    now = now or timezone.now()
    result = SweepResult()
    _open_missing_clocks(now, result)
    _stop_met_clocks(now, result)
    for kind in (SlaAlert.Kind.BREACH, SlaAlert.Kind.WARNING):
        for _ in range(max_batches):
            if _mark(now, result, kind=kind) < BATCH:
                break
    return result


# --- telling the leads ----------------------------------------------------------------


def open_alerts(tenant_ids: list[int]):
    """Alerts on contacts still open, newest first: the board's alert list and badge."""
    return (
        SlaAlert.objects.filter(tenant_id__in=tenant_ids)
        .exclude(contact__status=Contact.Status.RESOLVED)
        .select_related("contact", "tenant", "clock")
        .order_by("-created_at")
    )


def notify_leads(clock_ids: list[int], kind: str) -> None:
    """After commit: an email per tenant to its leads, and a live push so inbox
    colours and the board's alert badge change without a reload. Failures are
    logged, never raised: the alerts are already stored and shown on the board."""
    from desk import live

    clocks = list(SlaClock.objects.filter(pk__in=clock_ids).select_related("contact", "tenant"))
    by_tenant: dict[int, list[SlaClock]] = {}
    for clock in clocks:
        by_tenant.setdefault(clock.tenant_id, []).append(clock)
    leads: dict[int, list[str]] = {}
    for tenant_id, email in Membership.objects.filter(
        tenant_id__in=list(by_tenant), role__in=[Role.LEAD, Role.ADMIN], user__is_active=True
    ).values_list("tenant_id", "user__email"):
        leads.setdefault(tenant_id, []).append(email)
    mails = []
    for tenant_id, tenant_clocks in by_tenant.items():
        if not leads.get(tenant_id):
            continue
        tenant = tenant_clocks[0].tenant
        verb = "breached" if kind == SlaAlert.Kind.BREACH else "will breach within 20 minutes"
        subject = f"[{tenant.name}] {len(tenant_clocks)} SLA target(s) {verb}"
        body = render_to_string(
            "desk/board_alert_email.txt",
            {
                "tenant": tenant,
                "clocks": tenant_clocks[:50],
                "more": max(0, len(tenant_clocks) - 50),
                "verb": verb,
                "site_url": settings.SITE_URL,
                "board_url": reverse("desk:tenant-board", kwargs={"slug": tenant.slug}),
            },
        )
        mails.append((subject, body, settings.DEFAULT_FROM_EMAIL, leads[tenant_id]))
    try:
        send_mass_mail(mails, fail_silently=False)
    except Exception:
        logger.exception("SLA alert email failed for clocks %s", clock_ids[:10])
    for tenant_id in by_tenant:
        _push(tenant_id, alert_badge_html(tenant_id))
    if kind == SlaAlert.Kind.BREACH:
        for contact_id in {c.contact_id for c in clocks[:100]}:
            live.push_inbox(contact_id)


def _push(tenant_id: int, html: str) -> None:
    """Through the inbox group every lead's open board listens to; a lost push
    costs a refresh, never the alert itself."""
    from desk.live import inbox_group, send_to_groups

    try:
        send_to_groups([(inbox_group(tenant_id), {"type": "inbox.push", "html": html})])
    except Exception:
        logger.exception("SLA alert push failed for tenant %s", tenant_id)


def alert_badge_html(tenant_id: int) -> str:
    count = open_alerts([tenant_id]).count()
    return render_to_string(
        "desk/board.html#alert-badge-oob", {"tenant_id": tenant_id, "alert_count": count}
    )
