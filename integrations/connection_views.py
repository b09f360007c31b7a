"""A tenant's connections: store platforms, carrier feeds and messaging senders,
credentials encrypted at rest."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from integrations import connection_checks, providers
from integrations import health as api_health
from integrations.actions import create_connection
from integrations.messaging.actions import outbox_senders, sender_identity
from integrations.models import Connection
from integrations.providers import CredentialField
from tenants.access import get_tenant_for_member
from tenants.actions import audit
from tenants.actor import Actor
from tenants.roles import Permission


class ConnectionForm(forms.Form):
    """Pick a provider, name the connection, give that provider's credentials.

    The credential fields are the chosen provider's own (``integrations.providers``);
    values typed for another provider are never kept."""

    provider = forms.ChoiceField()
    name = forms.CharField(max_length=120)

    def __init__(self, data=None, *, provider: str = "") -> None:
        super().__init__(data)
        self.fields["provider"].choices = [("", "Choose a provider…"), *providers.choices()]
        chosen = (data.get("provider") if data is not None else provider) or ""
        self.spec = providers.find(chosen)
        if self.spec is not None:
            self.initial["provider"] = self.spec.code
            for field in self.spec.fields:
                self.fields[field.name] = _form_field(field)

    def clean_from_number(self) -> str:
        number = self.cleaned_data["from_number"].strip().replace(" ", "")
        if number and not re.fullmatch(r"\+[1-9]\d{6,14}", number):
            raise forms.ValidationError("An international number: + then country code and digits.")
        return number

    def clean(self) -> dict:
        data = super().clean()
        if self.spec is not None and self.spec.validate is not None:
            for name, error in self.spec.validate(data).items():
                self.add_error(name, error)
        return data

    def credentials(self) -> dict:
        return {
            field.key: self.cleaned_data[field.name]
            for field in self.spec.fields
            if self.cleaned_data.get(field.name)
        }


def _form_field(field: CredentialField) -> forms.Field:
    options = {
        "label": field.label or field.name.replace("_", " ").capitalize(),
        "help_text": field.help,
        "required": field.required,
    }
    if field.email:
        return forms.EmailField(**options)
    widget = forms.PasswordInput if field.secret else forms.TextInput
    return forms.CharField(max_length=255, widget=widget, **options)


@require_http_methods(["GET", "POST"])
def connections_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = ConnectionForm(request.POST or None, provider=request.GET.get("provider", ""))
    if request.method == "POST" and form.is_valid():
        provider = form.cleaned_data["provider"]
        connection = create_connection(
            tenant,
            provider=provider,
            kind=form.spec.kind,
            name=form.cleaned_data["name"],
            credentials=form.credentials(),
            actor=Actor.member(request.user),
        )
        messages.success(request, f"{connection.name} connected.")
        return redirect("connections:page", slug=tenant.slug)
    if request.htmx and request.method == "GET":
        return render(
            request,
            "integrations/_connect_form.html",
            {"form": form, "connect_url": request.path},
        )
    rows = list(tenant.connections.order_by("kind", "name"))
    hooks = connection_checks.webhook_health(rows)
    calls = api_health.read([c.pk for c in rows])
    connections = [(c, sender_identity(c), hooks.get(c.pk), calls.get(c.pk)) for c in rows]
    return render(
        request,
        "integrations/connections.html",
        {
            "tenant": tenant,
            "form": form,
            "connections": connections,
            "senders": outbox_senders(tenant),
            "site": request.build_absolute_uri("/").rstrip("/"),
            "scheme": request.scheme,
            "connect_url": request.path,
            "host": request.get_host(),
        },
    )


@require_POST
def test_connection(request: HttpRequest, slug: str, connection_id: str) -> HttpResponse:
    """One read-only call to the provider with the stored credentials."""
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    try:
        public_id = uuid.UUID(connection_id)
    except ValueError:
        raise Http404("No such connection") from None
    connection = get_object_or_404(Connection, tenant=tenant, public_id=public_id)
    result = connection_checks.check(connection)
    audit(
        tenant,
        Actor.member(request.user),
        "connection.test",
        connection,
        {"ok": result.ok, "message": result.message, "ms": result.ms},
    )
    if result.ok:
        messages.success(request, f"{connection.name}: {result.message}")
    else:
        messages.error(request, f"{connection.name} failed its test: {result.message}")
    return redirect("connections:page", slug=tenant.slug)
