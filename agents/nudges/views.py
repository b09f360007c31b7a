"""Nudge rules editor (account managers) and the outbox report (billing viewers)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from agents.nudges import actions, queries, templating
from agents.nudges.engine import variables_for
from agents.nudges.forms import NudgeRuleForm
from agents.nudges.models import NudgeRule
from integrations.messaging.actions import NotFailed
from integrations.models import Shipment
from tenants.access import get_tenant_for_member
from tenants.actor import Actor
from tenants.models import Tenant
from tenants.roles import Permission

MANAGE = "tenant.manage"
REPORT = "billing.view"

DEFAULT_TEMPLATES = {
    "en": {
        "subject": "Order {{ order_number }}: {{ status }}",
        "body": "Hi {{ first_name }}, your order {{ order_number }} is {{ status }} "
        "({{ carrier }} {{ tracking_number }}).",
    }
}


def _rule_for(tenant: Tenant, rule_id: str) -> NudgeRule:
    try:
        public_id = uuid.UUID(rule_id)
    except ValueError as exc:
        raise Http404("No such rule") from exc
    rule = NudgeRule.objects.filter(tenant=tenant, public_id=public_id).first()
    if rule is None:
        raise Http404("No such rule")
    return rule


def _sample_preview(tenant: Tenant, rule: NudgeRule) -> dict[str, Any]:
    """The rule's message for the tenant's latest shipment (or a made-up one)."""
    shipment = (
        Shipment.objects.filter(tenant=tenant)
        .select_related("order__customer")
        .order_by("-created_at")
        .first()
    )
    if shipment is not None:
        order, customer = shipment.order, shipment.order.customer
        variables = variables_for(tenant, order, customer, shipment)
        sample = f"#{order.number} ({shipment.carrier} {shipment.tracking_number})"
    else:
        variables = {
            **variables_for(tenant, None, None, None),
            "customer_name": "Ada Lovelace",
            "first_name": "Ada",
            "order_number": "1001",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "status": "Out for delivery",
        }
        sample = "a sample shipment"
    locale = templating.pick_locale(rule.templates or {}, [tenant.locale, "en"])
    template = (rule.templates or {}).get(locale, {})
    return {
        "sample": sample,
        "locale": locale,
        "channels": rule.channels,
        "subject": templating.render(template.get("subject", ""), variables),
        "body": templating.render(template.get("body", ""), variables),
        "whatsapp_template": template.get("whatsapp_template", ""),
        "whatsapp_params": [str(variables.get(p, "")) for p in template.get("whatsapp_params", [])],
    }


def _page(request, tenant, form, rule=None, status=200) -> HttpResponse:
    context = {
        "tenant": tenant,
        "rules": NudgeRule.objects.filter(tenant=tenant),
        "form": form,
        "rule": rule,
        "variables": templating.VARIABLES,
        "preview": _sample_preview(tenant, rule) if rule else None,
    }
    return render(request, "nudges/rules.html", context, status=status)


@require_http_methods(["GET", "POST"])
def rules(request: HttpRequest, slug: str) -> HttpResponse:
    """The tenant's rules and a form for a new one."""
    tenant, _ = get_tenant_for_member(request.user, slug, MANAGE)
    if request.method == "POST":
        form = NudgeRuleForm(request.POST)
        if form.is_valid():
            rule = actions.save_rule(tenant, form, Actor.member(request.user))
            return redirect(
                reverse("nudges:rule", kwargs={"slug": slug, "rule_id": rule.public_id})
            )
        return _page(request, tenant, form, status=400)
    return _page(request, tenant, NudgeRuleForm(initial={"templates": DEFAULT_TEMPLATES}))


@require_http_methods(["GET", "POST"])
def rule(request: HttpRequest, slug: str, rule_id: str) -> HttpResponse:
    """Edit one rule, with its message previewed for a sample shipment."""
    tenant, _ = get_tenant_for_member(request.user, slug, MANAGE)
    current = _rule_for(tenant, rule_id)
    if request.method == "POST":
        form = NudgeRuleForm(request.POST, instance=current)
        if form.is_valid():
            actions.save_rule(tenant, form, Actor.member(request.user))
            return redirect(reverse("nudges:rule", kwargs={"slug": slug, "rule_id": rule_id}))
        return _page(request, tenant, form, _rule_for(tenant, rule_id), status=400)
    return _page(request, tenant, NudgeRuleForm(instance=current), current)


@require_POST
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Preview the form as it stands, unsaved: the HTMX path swaps in the preview only."""
    tenant, _ = get_tenant_for_member(request.user, slug, MANAGE)
    form = NudgeRuleForm(request.POST)
    context: dict[str, Any] = {"tenant": tenant, "form": form}
    if form.is_valid():
        draft = form.save(commit=False)
        draft.tenant = tenant
        context["preview"] = _sample_preview(tenant, draft)
    if request.htmx:
        return render(request, "nudges/rules.html#rule-preview", context)
    context.update(rules=NudgeRule.objects.filter(tenant=tenant), variables=templating.VARIABLES)
    return render(request, "nudges/rules.html", context, status=200 if form.is_valid() else 400)


def outbox(request: HttpRequest, slug: str) -> HttpResponse:
    """Sent / delivered / failed per channel and trigger, skips by reason, and attribution."""
    tenant, membership = get_tenant_for_member(request.user, slug, REPORT)
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 365))
    except ValueError:
        days = 30
    since = timezone.now() - timedelta(days=days)
    context = {
        "tenant": tenant,
        "days": days,
        "rows": queries.outcomes(tenant, since),
        "skips": queries.skip_reasons(tenant, since),
        "attribution": queries.attribution(tenant, since),
        "undelivered": queries.undelivered_replies(tenant, since),
        "failed_nudges": queries.failed_nudges(tenant, since),
        "can_open_contacts": membership.can(Permission.VIEW_CONTACTS),
        "can_send_again": membership.can(Permission.MANAGE_TENANT),
    }
    return render(request, "nudges/outbox.html", context)


@require_POST
def send_nudge_again(request: HttpRequest, slug: str, message_id: str) -> HttpResponse:
    """Send a failed nudge again, by whoever runs the merchant's nudges, once they have
    read why it failed; never one whose parcel has moved on since."""
    tenant, _ = get_tenant_for_member(request.user, slug, MANAGE)
    try:
        public_id = uuid.UUID(message_id)
    except ValueError as exc:
        raise Http404("No such message") from exc
    try:
        sent = actions.send_nudge_again(tenant, public_id, Actor.member(request.user))
    except (actions.MovedOn, NotFailed) as exc:
        messages.error(request, str(exc))
        return redirect(_failed_nudges_url(tenant))
    if sent is None:
        raise Http404("No such message")
    messages.success(request, f"Sending it to {sent.to} again.")
    return redirect(_failed_nudges_url(tenant))


def _failed_nudges_url(tenant: Tenant) -> str:
    return reverse("nudges:outbox", kwargs={"slug": tenant.slug}) + "#failed-nudges"
