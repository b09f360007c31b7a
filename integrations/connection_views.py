"""A tenant's connections: store platforms and carrier feeds, credentials encrypted at rest."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from integrations.actions import create_connection
from integrations.models import Connection
from tenants.access import get_tenant_for_member
from tenants.actor import Actor
from tenants.roles import Permission

KIND_OF = {
    Connection.Provider.SANDBOX: Connection.Kind.COMMERCE,
    Connection.Provider.SHOPIFY: Connection.Kind.COMMERCE,
    Connection.Provider.SANDBOX_CARRIER: Connection.Kind.CARRIER,
    Connection.Provider.UPS: Connection.Kind.CARRIER,
    Connection.Provider.AFTERSHIP: Connection.Kind.CARRIER,
}


class ConnectionForm(forms.Form):
    provider = forms.ChoiceField(choices=Connection.Provider.choices)
    name = forms.CharField(max_length=120)
    shop_domain = forms.CharField(
        max_length=255, required=False, help_text="Shopify: example.myshopify.com"
    )
    access_token = forms.CharField(max_length=255, required=False, widget=forms.PasswordInput)
    client_id = forms.CharField(max_length=255, required=False, help_text="UPS OAuth client id")
    client_secret = forms.CharField(max_length=255, required=False, widget=forms.PasswordInput)
    api_key = forms.CharField(
        max_length=255, required=False, widget=forms.PasswordInput, help_text="AfterShip"
    )
    webhook_secret = forms.CharField(max_length=255, required=False, widget=forms.PasswordInput)

    REQUIRED = {
        Connection.Provider.SHOPIFY: ("shop_domain", "access_token", "webhook_secret"),
        Connection.Provider.UPS: ("client_id", "client_secret"),
        Connection.Provider.AFTERSHIP: ("api_key",),
    }

    def clean(self) -> dict:
        data = super().clean()
        for field in self.REQUIRED.get(data.get("provider"), ()):
            if not data.get(field):
                self.add_error(field, "Required for this provider.")
        return data

    def credentials(self) -> dict:
        secret_fields = (
            "shop_domain",
            "access_token",
            "client_id",
            "client_secret",
            "api_key",
            "webhook_secret",
        )
        return {k: self.cleaned_data[k] for k in secret_fields if self.cleaned_data.get(k)}


@require_http_methods(["GET", "POST"])
def connections_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        provider = form.cleaned_data["provider"]
        connection = create_connection(
            tenant,
            provider=provider,
            kind=KIND_OF[provider],
            name=form.cleaned_data["name"],
            credentials=form.credentials(),
            actor=Actor.member(request.user),
        )
        messages.success(request, f"{connection.name} connected.")
        return redirect("connections:page", slug=tenant.slug)
    connections = tenant.connections.order_by("kind", "name")
    return render(
        request,
        "integrations/connections.html",
        {
            "tenant": tenant,
            "form": form,
            "connections": connections,
            "site": request.build_absolute_uri("/").rstrip("/"),
        },
    )
