"""Read-side querysets for the inbox: filters, search, keyset pagination, counters."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.postgres.search import SearchQuery
from django.db.models import Count, Prefetch, Q, QuerySet

from desk.forms import AGE_LIMITS, AMOUNT_BANDS
from desk.models import Contact, Proposal
from tenants.models import Tenant, User

PAGE_SIZE = 50
OPEN_PROPOSAL = [Proposal.Status.PROPOSED, Proposal.Status.AWAITING_LEAD, Proposal.Status.FAILED]


@dataclass(frozen=True)
class TenantCount:
    tenant: Tenant
    open: int


@dataclass(frozen=True)
class InboxPage:
    contacts: list[Contact]
    next_cursor: str | None


def inbox_rows() -> QuerySet[Contact]:
    """Contacts with what an inbox row shows, in two queries (contacts, proposals)."""
    return Contact.objects.select_related(
        "tenant", "order", "customer", "assigned_to"
    ).prefetch_related(
        Prefetch(
            "proposals", queryset=Proposal.objects.order_by("-created_at"), to_attr="proposal_list"
        )
    )


def escalated_for(tenants: list[Tenant]) -> QuerySet[Contact]:
    """Open escalations of the given tenants, the one due soonest first."""
    return (
        inbox_rows()
        .filter(tenant__in=tenants, status=Contact.Status.ESCALATED)
        .order_by("sla_due_at", "id")
    )


def encode_cursor(contact: Contact) -> str:
    raw = f"{contact.sla_due_at.isoformat()}|{contact.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        due, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(due), int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def filtered(tenants: list[Tenant], filters: dict, user: User, now: datetime) -> QuerySet[Contact]:
    """Escalations matching the inbox filters (see InboxFilterForm)."""
    qs = escalated_for(tenants)
    if filters.get("intent"):
        qs = qs.filter(intent=filters["intent"])
    if filters.get("kind") or filters.get("band") in AMOUNT_BANDS:
        proposal = Q(proposals__status__in=OPEN_PROPOSAL)
        if filters.get("kind"):
            proposal &= Q(proposals__kind=filters["kind"])
        if filters.get("band") in AMOUNT_BANDS:
            low, high = AMOUNT_BANDS[filters["band"]]
            if low is not None:
                proposal &= Q(proposals__amount__gte=low)
            if high is not None:
                proposal &= Q(proposals__amount__lt=high)
        qs = qs.filter(proposal)
    if filters.get("risk"):
        qs = qs.exclude(risk_flags=[])
    if filters.get("vip"):
        qs = qs.filter(customer__is_vip=True)
    if filters.get("age") in AGE_LIMITS:
        qs = qs.filter(escalated_at__lte=now - timedelta(hours=AGE_LIMITS[filters["age"]]))
    scope = filters.get("scope")
    live_claim = Q(assigned_to__isnull=False, claim_expires_at__gt=now)
    if scope == "mine":
        qs = qs.filter(live_claim, assigned_to=user)
    elif scope == "unassigned":
        qs = qs.exclude(live_claim)
    elif scope == "lead":
        qs = qs.filter(proposals__status=Proposal.Status.AWAITING_LEAD)
    if filters.get("q"):
        qs = qs.filter(
            search_vector=SearchQuery(filters["q"], config="simple", search_type="websearch")
        )
    return qs.distinct() if filters.get("kind") or filters.get("band") or scope == "lead" else qs


def inbox_page(tenants: list[Tenant], filters: dict, user: User, now: datetime) -> InboxPage:
    """One page of the inbox, after the cursor: constant cost however deep one pages."""
    qs = filtered(tenants, filters, user, now)
    cursor = decode_cursor(filters.get("after") or "")
    if cursor is not None:
        due, pk = cursor
        # A row comparison lets PostgreSQL seek the (status, sla_due_at, id)
        # index straight to the cursor; the equivalent OR of two conditions
        # makes it scan every earlier row.
        qs = qs.extra(
            where=['("desk_contact"."sla_due_at", "desk_contact"."id") > (%s, %s)'],
            params=[due, pk],
        )
    rows = list(qs[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return InboxPage(contacts=rows, next_cursor=encode_cursor(rows[-1]) if more and rows else None)


def open_count(tenant: Tenant) -> TenantCount:
    return TenantCount(
        tenant=tenant,
        open=Contact.objects.filter(tenant=tenant, status=Contact.Status.ESCALATED).count(),
    )


def open_counts(tenants: list[Tenant]) -> list[TenantCount]:
    counts = dict(
        Contact.objects.filter(tenant__in=tenants, status=Contact.Status.ESCALATED)
        .values_list("tenant_id")
        .annotate(n=Count("pk"))
    )
    return [TenantCount(tenant=t, open=counts.get(t.pk, 0)) for t in tenants]


@dataclass(frozen=True)
class InboxRow:
    """What one inbox row shows, computed once in Python: the row is rendered for
    every viewer and every push, so its template only prints."""

    public_id: str
    url: str
    tenant_name: str
    customer: str
    is_vip: bool
    subject: str
    intent: str
    proposal: str
    proposal_badge: str
    risk_flags: list[str]
    reason: str
    claimed_by: str
    due_label: str
    due_iso: str
    is_breached: bool


def present(contact: Contact, now: datetime) -> InboxRow:
    from django.urls import reverse
    from django.utils.timesince import timesince, timeuntil

    proposal = contact.proposal_list[0] if getattr(contact, "proposal_list", None) else None
    label = "—"
    badge = ""
    if proposal is not None:
        label = proposal.get_kind_display()
        if proposal.amount:
            label += f" {proposal.amount} {proposal.currency}"
        badge = {"awaiting_lead": "needs lead", "failed": "failed"}.get(proposal.status, "")
        if any(g.get("name") == "reopened" for g in proposal.guardrails or []):
            badge = "came back"
    claimed = ""
    if contact.assigned_to_id and contact.claim_expires_at and contact.claim_expires_at > now:
        claimed = contact.assigned_to.first_name or contact.assigned_to.email
    due = contact.sla_due_at
    breached = bool(due and due < now)
    if due is None:
        due_label = ""
    elif breached:
        due_label = f"overdue {timesince(due, now, depth=1)}"
    else:
        due_label = f"due in {timeuntil(due, now, depth=1)}"
    reason = contact.escalation_reason
    return InboxRow(
        public_id=str(contact.public_id),
        url=reverse("desk:contact", kwargs={"contact_id": contact.public_id}),
        tenant_name=contact.tenant.name,
        customer=contact.customer_name or contact.customer_email,
        is_vip=bool(contact.customer_id and contact.customer.is_vip),
        subject=contact.subject or "(no subject)",
        intent=contact.get_intent_display() or "—",
        proposal=label,
        proposal_badge=badge,
        risk_flags=list(contact.risk_flags or []),
        reason=reason if len(reason) <= 90 else reason[:89] + "…",
        claimed_by=claimed or "—",
        due_label=due_label,
        due_iso=due.isoformat() if due else "",
        is_breached=breached,
    )


def qa_overview(tenant: Tenant, days: int = 30) -> dict:
    """Pending blind reviews, and the false-approve rate of reviewed AI resolutions."""
    from django.utils import timezone

    from desk.models import QaReview

    since = timezone.now() - timedelta(days=days)
    counts = dict(
        QaReview.objects.filter(tenant=tenant, created_at__gte=since)
        .values_list("verdict")
        .annotate(n=Count("pk"))
    )
    reviewed = counts.get("correct", 0) + counts.get("incorrect", 0)
    pending = (
        QaReview.objects.filter(tenant=tenant, verdict=QaReview.Verdict.PENDING)
        .select_related("contact__order")
        .prefetch_related("contact__messages", "contact__proposals")
        .order_by("created_at")[:20]
    )
    return {
        "pending": pending,
        "counts": counts,
        "reviewed": reviewed,
        "false_approve_rate": counts.get("incorrect", 0) / reviewed if reviewed else None,
        "days": days,
    }
