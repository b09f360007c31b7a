"""The problem shipments board: what a specialist should chase before the customer asks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from desk.models import Contact
from integrations import queries
from integrations.carriers.registry import CARRIERS
from tenants.access import get_tenant_for_member
from tenants.roles import Permission

PAGE_SIZE = 50
REFRESH_SECONDS = 30


def _latest_contacts(order_ids: list[int]) -> dict[int, Contact]:
    rows = (
        Contact.objects.filter(order_id__in=order_ids)
        .order_by("order_id", "-created_at")
        .distinct("order_id")
        .only("public_id", "order_id", "subject", "status")
    )
    return {c.order_id: c for c in rows}


def problems(request: HttpRequest, slug: str) -> HttpResponse:
    """Problem shipments of one merchant, filtered by kind and carrier, refreshed live."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_CONTACTS)
    carriers = {c.code for c in CARRIERS}
    kind = request.GET.get("kind", "")
    carrier = request.GET.get("carrier", "")
    filters = queries.ProblemFilters(
        kind=kind if kind in queries.Problem.values else "",
        carrier=carrier if carrier in carriers else "",
    )
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    now = timezone.now()
    start = (page - 1) * PAGE_SIZE
    # One row past the page says whether there is a next one.
    rows = list(queries.problem_shipments(tenant, filters, now)[start : start + PAGE_SIZE + 1])
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    contacts = _latest_contacts([s.order_id for s in rows])
    labels = dict(queries.Problem.choices)
    context = {
        "tenant": tenant,
        "filters": filters,
        "kinds": queries.Problem.choices,
        "carriers": sorted(carriers),
        "counts": [
            (value, labels[value], n)
            for value, n in queries.problem_counts(tenant, filters.carrier, now).items()
        ],
        "rows": [
            {
                "shipment": s,
                "problems": [labels[k] for k in queries.problems_of(s, now)],
                "contact": contacts.get(s.order_id),
            }
            for s in rows
        ],
        "page": page,
        "has_next": has_next,
        "refresh_seconds": REFRESH_SECONDS,
        "now": now,
    }
    template = "integrations/problems.html"
    if request.htmx:
        template += "#problem-board"
    return render(request, template, context)
