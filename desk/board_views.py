"""SLA boards for leads and account managers, and the customer's CSAT survey."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from desk import actions, boards, csat, sla
from desk.forms import SlaPolicyForm
from desk.models import Priority, SlaPolicy
from tenants.access import get_tenant_for_member, memberships_of
from tenants.models import Tenant, User
from tenants.roles import Permission

ALERTS_SHOWN = 20


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=list(boards.RANGES.items()), required=False, initial=boards.DEFAULT_RANGE
    )


class CsatForm(forms.Form):
    score = forms.TypedChoiceField(choices=[(s, s) for s in csat.SCORES], coerce=int)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)


def _range_key(request: HttpRequest) -> str:
    form = RangeForm(request.GET)
    return form.cleaned_data["range"] if form.is_valid() else ""


def _board_tenants(user: User) -> list[Tenant]:
    """Tenants whose overview this user may see: billing and contacts both (leads,
    account managers, admins); a merchant admin only has their own tenant's board."""
    return [
        m.tenant
        for m in memberships_of(user).order_by("tenant__name")
        if m.can(Permission.VIEW_BILLING) and m.can(Permission.VIEW_CONTACTS)
    ]


def _alerts_context(rows: list[boards.TenantFigures]) -> dict:
    """The newest open alerts, and each tenant's count on its figures (two queries)."""
    alerts = sla.open_alerts([f.tenant.pk for f in rows])
    counts = dict(alerts.order_by().values_list("tenant_id").annotate(n=Count("pk")))
    for f in rows:
        f.alert_count = counts.get(f.tenant.pk, 0)
    return {"alerts": list(alerts[:ALERTS_SHOWN]), "alert_count": sum(counts.values())}


def _csv(body: str, name: str, now: datetime) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}-{now:%Y%m%d-%H%M}.csv"'
    return response


@require_GET
def tenant_board(request: HttpRequest, slug: str) -> HttpResponse:
    """One merchant: deflection against the floor with the month's burn-down,
    backlog, breaches, response times, refunds, CSAT and cost."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    now = timezone.now()
    span = boards.period(_range_key(request), now, ZoneInfo(tenant.time_zone))
    [figures] = boards.figures([tenant], span, now)
    burn = boards.burn_down(tenant, now, figures.floor)
    context = {
        "tenant": tenant,
        "f": figures,
        "span": span,
        "range_form": RangeForm(initial={"range": span.key}),
        "burn": burn,
        "burn_chart": burn.chart(),
        "backlog_bars": boards.bars(figures.backlog),
        "csat_bars": boards.bars(
            [("AI", figures.csat_ai.percent), ("Human", figures.csat_human.percent)], top=100
        ),
        "legacy_cost": boards.LEGACY_COST_PER_CONTACT,
        "now": now,
        **_alerts_context([figures]),
    }
    template = "desk/board_tenant.html#board-figures" if request.htmx else "desk/board_tenant.html"
    return render(request, template, context)


@require_GET
def tenant_board_csv(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.VIEW_BILLING)
    now = timezone.now()
    span = boards.period(_range_key(request), now, ZoneInfo(tenant.time_zone))
    return _csv(
        boards.to_csv(boards.figures([tenant], span, now), span), f"{tenant.slug}-board", now
    )


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every merchant the lead looks after, one row each, with the open alerts."""
    tenants = _board_tenants(request.user)
    if not tenants:
        raise PermissionDenied("The overview is for team leads and account managers")
    now = timezone.now()
    span = boards.period(_range_key(request), now, ZoneInfo("UTC"))
    rows = boards.figures(tenants, span, now)
    context = {
        "rows": rows,
        "span": span,
        "range_form": RangeForm(initial={"range": span.key}),
        "share_chart": [
            {
                "figures": f,
                "y": 18 * i,
                "width": round(float(f.ai_share or 0) * 240, 1),
                "floor_x": round(170 + float(f.floor) * 240, 1) if f.floor is not None else None,
            }
            for i, f in enumerate(rows)
        ],
        "share_chart_height": 18 * len(rows) + 4,
        "legacy_cost": boards.LEGACY_COST_PER_CONTACT,
        "now": now,
        **_alerts_context(rows),
    }
    template = "desk/board.html#board-figures" if request.htmx else "desk/board.html"
    return render(request, template, context)


@require_GET
def overview_csv(request: HttpRequest) -> HttpResponse:
    tenants = _board_tenants(request.user)
    if not tenants:
        raise PermissionDenied("The overview is for team leads and account managers")
    now = timezone.now()
    span = boards.period(_range_key(request), now, ZoneInfo("UTC"))
    return _csv(boards.to_csv(boards.figures(tenants, span, now), span), "board", now)


@require_http_methods(["GET", "POST"])
def csat_survey(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's survey, public: the signed token is the only credential.
    GET only shows the question (mail scanners follow links); a click on a score
    posts it, and the comment can follow on the thank-you page."""
    contact = csat.contact_for_token(token)
    if contact is None:
        raise Http404("This survey link is not valid any more")
    form = CsatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        csat.record_response(
            contact, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
        )
        if not request.htmx:
            return redirect(request.path + "?thanks=1")
    answer = getattr(contact, "csat", None)
    context = {
        "tenant": contact.tenant,
        "token": token,
        "form": form,
        "answer": answer,
        "scores": csat.SCORES,
        "thanks": answer is not None and (request.method == "POST" or "thanks" in request.GET),
    }
    template = "desk/csat.html#csat-form" if request.htmx else "desk/csat.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def sla_policies(request: HttpRequest, slug: str) -> HttpResponse:
    """A tenant's SLA targets, one form per priority. A priority without its own
    policy falls back to the normal one (or built-in defaults), shown as the
    starting values; saving one creates it."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_SLA)
    saved = {p.priority: p for p in SlaPolicy.objects.filter(tenant=tenant)}
    fallback = saved.get(Priority.NORMAL) or SlaPolicy(tenant=tenant)
    posted = request.POST.get("priority") if request.method == "POST" else None
    if posted is not None and posted not in Priority.values:
        raise Http404("No such priority")
    forms_by_priority = {}
    for priority, label in Priority.choices:
        initial = SlaPolicyForm.initial_for(saved.get(priority) or fallback)
        data = request.POST if priority == posted else None
        forms_by_priority[priority] = (
            label,
            priority in saved,
            SlaPolicyForm(data, initial=initial, prefix=priority),
        )
    if posted is not None:
        form = forms_by_priority[posted][2]
        if form.is_valid():
            actions.save_sla_policy(tenant, request.user, priority=posted, **form.policy_values())
            messages.success(request, f"{Priority(posted).label} priority targets saved.")
            return redirect("desk:sla", slug=tenant.slug)
    return render(
        request,
        "desk/sla_policies.html",
        {"tenant": tenant, "forms": [(p, *v) for p, v in forms_by_priority.items()]},
    )
