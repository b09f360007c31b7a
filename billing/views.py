"""Tenant billing pages: month-to-date figures, monthly statements with CSV and
printable exports, and the Erlang C staffing planner."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from billing import staffing, statements
from billing.forms import StaffingForm, parse_month
from billing.models import Statement, UsageRecord
from billing.queries import month_summary
from tenants.access import get_tenant_for_member, require
from tenants.models import Tenant
from tenants.roles import Permission

LIST_MONTHS = 12


def _this_month(tenant: Tenant) -> date:
    return statements.month_of(tenant, timezone.now())


def _month_bounds(today: date, month: str | None) -> tuple[date, date]:
    start = (month and parse_month(month)) or today.replace(day=1)
    return start, statements.next_month(start)


def _statement_month(tenant: Tenant, month: str) -> date:
    """The month named in the URL: 404 unless it is a month that has begun."""
    parsed = parse_month(month)
    if parsed is None or parsed > _this_month(tenant):
        raise Http404("No such month")
    return parsed


@require_GET
def billing_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, membership = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    today = timezone.now().astimezone(ZoneInfo(tenant.time_zone)).date()
    start, nxt = _month_bounds(today, request.GET.get("month"))
    summary = month_summary(tenant, start, nxt)
    period_start, period_end = statements.month_bounds(tenant, start)
    records = UsageRecord.objects.filter(
        tenant=tenant, occurred_at__gte=period_start, occurred_at__lt=period_end
    ).order_by("-occurred_at")[:100]
    return render(
        request,
        "billing/billing.html",
        {
            "tenant": tenant,
            "summary": summary,
            "records": records,
            "can_plan_staffing": membership.can(Permission.VIEW_CONTACTS),
        },
    )


@require_GET
def statement_list(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    current = _this_month(tenant)
    months = [current]
    while len(months) < LIST_MONTHS:
        months.append(statements.previous_month(months[-1]))
    frozen = {s.month: s for s in Statement.objects.filter(tenant=tenant, month__in=months)}
    rows = [{"month": m, "frozen": frozen.get(m), "is_current": m == current} for m in months]
    return render(request, "billing/statements.html", {"tenant": tenant, "rows": rows})


def _statement_context(tenant: Tenant, month: date) -> dict:
    data = statements.get_statement(tenant, month)
    return {
        "tenant": tenant,
        "statement": data,
        "is_current": month == _this_month(tenant),
        "closes_at": statements.closes_at(tenant, month),
        "previous": statements.previous_month(month),
        "next": statements.next_month(month) if month < _this_month(tenant) else None,
    }


@require_GET
def statement_page(request: HttpRequest, slug: str, month: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    context = _statement_context(tenant, _statement_month(tenant, month))
    template = "billing/statement.html#statement" if request.htmx else "billing/statement.html"
    return render(request, template, context)


@require_GET
def statement_print(request: HttpRequest, slug: str, month: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    context = _statement_context(tenant, _statement_month(tenant, month))
    return render(request, "billing/statement_print.html", context)


@require_GET
def statement_csv(request: HttpRequest, slug: str, month: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    parsed = _statement_month(tenant, month)
    data = statements.get_statement(tenant, parsed)
    response = HttpResponse(statements.statement_csv(data), content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="{tenant.slug}-statement-{parsed:%Y-%m}.csv"'
    )
    return response


@require_GET
def ledger_csv(request: HttpRequest, slug: str, month: str) -> StreamingHttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    parsed = _statement_month(tenant, month)
    # Streamed: a busy merchant's month is tens of thousands of rows.
    response = StreamingHttpResponse(
        statements.ledger_csv_rows(tenant, parsed), content_type="text/csv"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{tenant.slug}-ledger-{parsed:%Y-%m}.csv"'
    )
    return response


@require_GET
def staffing_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Erlang C planner for the team lead: specialists for one interval and at peaks."""
    tenant, membership = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    # Staffing is the desk's business: merchants read billing but do not plan the pod.
    require(membership, Permission.VIEW_CONTACTS)
    form = StaffingForm(request.GET or StaffingForm.defaults())
    plan = None
    if form.is_valid():
        values = form.cleaned_data
        plan = staffing.peak_plan(
            arrivals=values["arrivals"],
            handle_seconds=values["handle_seconds"],
            interval_seconds=values["interval_minutes"] * 60,
            target_seconds=values["target_seconds"],
            target_service_level=float(values["service_level_percent"] / Decimal(100)),
            shrinkage=float(values["shrinkage_percent"] / Decimal(100)),
        )
    template = "billing/staffing.html#staffing-plan" if request.htmx else "billing/staffing.html"
    return render(request, template, {"tenant": tenant, "form": form, "plan": plan})
