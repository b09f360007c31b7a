"""Tenant pages: merchants, onboarding checklist, settings, members, API keys, audit log."""

from __future__ import annotations

import csv

from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants import actions, onboarding
from tenants.access import (
    can_onboard,
    get_api_key_in_tenant,
    get_membership_in_tenant,
    get_tenant_for_member,
    memberships_of,
)
from tenants.actor import Actor
from tenants.forms import (
    ApiKeyForm,
    AuditFilterForm,
    AutonomyForm,
    InviteForm,
    RetentionForm,
    RoleForm,
    TenantForm,
)
from tenants.models import AuditEvent, Membership
from tenants.roles import Permission

AUDIT_PAGE = 200


@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    """Every tenant the member belongs to, with their role there."""
    return render(
        request,
        "tenants/list.html",
        {
            "memberships": list(memberships_of(request.user)),
            "can_onboard": can_onboard(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def tenant_create(request: HttpRequest) -> HttpResponse:
    if not can_onboard(request.user):
        raise PermissionDenied("Only account managers create merchants")
    form = TenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tenant = actions.create_tenant(request.user, **form.cleaned_data)
        messages.success(request, f"{tenant.name} created. Work through the checklist to go live.")
        return redirect("tenants:onboarding", slug=tenant.slug)
    return render(request, "tenants/create.html", {"form": form})


@require_http_methods(["GET", "POST"])
def onboarding_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    if request.method == "POST":
        try:
            actions.go_live(tenant, Actor.member(request.user))
            messages.success(request, f"{tenant.name} is live.")
        except actions.NotReadyToGoLive as exc:
            messages.error(request, str(exc))
        return redirect("tenants:onboarding", slug=tenant.slug)
    return render(
        request,
        "tenants/onboarding.html",
        {"tenant": tenant, "steps": onboarding.checklist(tenant)},
    )


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    # Two forms on one page; the submit button says which one was posted.
    posted = request.POST if request.method == "POST" else None
    is_retention = posted is not None and "save-retention" in posted
    form = AutonomyForm(None if is_retention else posted, instance=tenant)
    retention_form = RetentionForm(posted if is_retention else None, instance=tenant)
    if is_retention and retention_form.is_valid():
        actions.update_retention_settings(
            tenant, Actor.member(request.user), dict(retention_form.cleaned_data)
        )
        messages.success(request, "Retention saved.")
        return redirect("tenants:settings", slug=tenant.slug)
    if posted is not None and not is_retention and form.is_valid():
        actions.update_tenant_settings(tenant, Actor.member(request.user), dict(form.cleaned_data))
        messages.success(request, "Settings saved.")
        return redirect("tenants:settings", slug=tenant.slug)
    return render(
        request,
        "tenants/settings.html",
        {"tenant": tenant, "form": form, "retention_form": retention_form},
    )


@require_http_methods(["GET", "POST"])
def members_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user, created = actions.invite_member(
            tenant,
            form.cleaned_data["email"],
            form.cleaned_data["role"],
            Actor.member(request.user),
            first_name=form.cleaned_data["first_name"],
        )
        if created:
            # The invitation is allauth's password-reset mail: a link to set a password.
            reset = ResetPasswordForm(data={"email": user.email})
            if reset.is_valid():
                reset.save(request)
        messages.success(request, f"{user.email} invited as {form.cleaned_data['role']}.")
        return redirect("tenants:members", slug=tenant.slug)
    members = (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("role", "user__email")
    )
    return render(
        request, "tenants/members.html", {"tenant": tenant, "form": form, "members": members}
    )


@require_POST
def member_role(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("tenants:members", slug=tenant.slug)
    membership = get_membership_in_tenant(tenant, form.cleaned_data["membership"])
    if request.POST.get("remove"):
        if membership.user_id == request.user.pk:
            messages.error(request, "You cannot remove yourself.")
        else:
            actions.remove_member(membership, Actor.member(request.user))
    else:
        actions.change_role(membership, form.cleaned_data["role"], Actor.member(request.user))
    return redirect("tenants:members", slug=tenant.slug)


@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        # Shown once, in this response only; we keep just its hash.
        new_key = actions.issue_api_key(
            tenant, form.cleaned_data["name"], Actor.member(request.user)
        )
        form = ApiKeyForm()
    keys = tenant.api_keys.order_by("-created_at")
    return render(
        request,
        "tenants/api_keys.html",
        {"tenant": tenant, "form": form, "keys": keys, "new_key": new_key},
    )


@require_POST
def api_key_revoke(request: HttpRequest, slug: str, key_id: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    key = get_api_key_in_tenant(tenant, key_id)
    actions.revoke_api_key(key, Actor.member(request.user))
    messages.success(request, f"Key “{key.name}” revoked.")
    return redirect("tenants:api-keys", slug=tenant.slug)


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def audit_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Every human and agent action on this tenant, newest first; ?format=csv exports all."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = AuditFilterForm(request.GET)
    events = (
        AuditEvent.objects.filter(tenant=tenant)
        .select_related("actor_user")
        .order_by("-created_at")
    )
    if form.is_valid():
        if form.cleaned_data["verb"]:
            events = events.filter(verb__startswith=form.cleaned_data["verb"])
        if form.cleaned_data["actor"]:
            events = events.filter(actor_label__icontains=form.cleaned_data["actor"])
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        rows = (
            writer.writerow(
                [
                    e.created_at.isoformat(),
                    e.actor_type,
                    e.actor_label,
                    e.verb,
                    e.object_type,
                    e.object_id,
                    e.data,
                ]
            )
            for e in events.iterator(chunk_size=2000)
        )
        header = writer.writerow(
            ["at", "actor_type", "actor", "verb", "object_type", "object_id", "data"]
        )
        response = StreamingHttpResponse([header, *rows], content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{tenant.slug}-audit.csv"'
        return response
    return render(
        request,
        "tenants/audit.html",
        {"tenant": tenant, "form": form, "events": events[:AUDIT_PAGE]},
    )
