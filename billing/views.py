"""A tenant's billing page: month-to-date resolutions at contract prices."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing.models import UsageRecord
from billing.queries import month_summary
from tenants.access import get_tenant_for_member
from tenants.roles import Permission


def _month_bounds(today: date, month: str | None) -> tuple[date, date]:
    start = today.replace(day=1)
    if month:
        try:
            year, mon = (int(part) for part in month.split("-", 1))
            start = date(year, mon, 1)
        except ValueError:
            pass
    nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, nxt


@require_GET
def billing_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    from zoneinfo import ZoneInfo

    today = timezone.now().astimezone(ZoneInfo(tenant.time_zone)).date()
    start, nxt = _month_bounds(today, request.GET.get("month"))
    summary = month_summary(tenant, start, nxt)
    records = UsageRecord.objects.filter(
        tenant=tenant, occurred_at__date__gte=start, occurred_at__date__lt=nxt
    ).order_by("-occurred_at")[:100]
    return render(
        request,
        "billing/billing.html",
        {"tenant": tenant, "summary": summary, "records": records},
    )
