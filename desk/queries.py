"""Read-side querysets for the inbox."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from desk.models import Contact, Proposal
from tenants.models import Tenant


@dataclass(frozen=True)
class TenantCount:
    tenant: Tenant
    open: int


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
    """Open escalations of the given tenants, oldest escalation first (it waits longest)."""
    return (
        inbox_rows()
        .filter(tenant__in=tenants, status=Contact.Status.ESCALATED)
        .order_by("escalated_at", "pk")
    )


def open_count(tenant: Tenant) -> TenantCount:
    return TenantCount(
        tenant=tenant,
        open=Contact.objects.filter(tenant=tenant, status=Contact.Status.ESCALATED).count(),
    )


def open_counts(tenants: list[Tenant]) -> list[TenantCount]:
    from django.db.models import Count

    counts = dict(
        Contact.objects.filter(tenant__in=tenants, status=Contact.Status.ESCALATED)
        .values_list("tenant_id")
        .annotate(n=Count("pk"))
    )
    return [TenantCount(tenant=t, open=counts.get(t.pk, 0)) for t in tenants]
