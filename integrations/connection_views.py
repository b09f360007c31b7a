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

from integrations import connection_checks
from integrations.actions import create_connection
from integrations.messaging.actions import outbox_senders, sender_identity
from integrations.models import Connection
from tenants.access import get_tenant_for_member
from tenants.actions import audit
from tenants.actor import Actor
from tenants.roles import Permission

KIND_OF = {
    Connection.Provider.SANDBOX: Connection.Kind.COMMERCE,
    Connection.Provider.SHOPIFY: Connection.Kind.COMMERCE,
    Connection.Provider.SANDBOX_CARRIER: Connection.Kind.CARRIER,
    Connection.Provider.UPS: Connection.Kind.CARRIER,
    Connection.Provider.AFTERSHIP: Connection.Kind.CARRIER,
    Connection.Provider.TWILIO: Connection.Kind.MESSAGING,
    Connection.Provider.WHATSAPP: Connection.Kind.MESSAGING,
    Connection.Provider.EMAIL: Connection.Kind.MESSAGING,
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
    webhook_secret = forms.CharField(
        max_length=255, required=False, widget=forms.PasswordInput, help_text="Shopify"
    )
    # Messaging: who the outbox sends as, and how inbound webhooks are checked.
    account_sid = forms.CharField(max_length=64, required=False, help_text="Twilio account SID")
    auth_token = forms.CharField(
        max_length=255, required=False, widget=forms.PasswordInput, help_text="Twilio"
    )
    from_number = forms.CharField(
        max_length=32, required=False, help_text="Twilio: the sending number, +14155550100"
    )
    messaging_service_sid = forms.CharField(
        max_length=64, required=False, help_text="Twilio: instead of a number, MG…"
    )
    phone_number_id = forms.CharField(
        max_length=64, required=False, help_text="WhatsApp Cloud API phone-number id"
    )
    app_secret = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.PasswordInput,
        help_text="WhatsApp: the Meta app secret that signs webhooks",
    )
    verify_token = forms.CharField(
        max_length=255, required=False, help_text="WhatsApp: any phrase, entered at Meta too"
    )
    from_email = forms.EmailField(required=False, help_text="Email: the From address")
    reply_to = forms.EmailField(required=False, help_text="Email: where replies go")
    inbound_password = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.PasswordInput,
        help_text="Email: the password in Postmark's inbound webhook URL",
    )
    postmark_server_token = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.PasswordInput,
        help_text="Email: Postmark server token, to send through Postmark and hear back "
        "about deliveries and bounces (empty: the desk's own mail server)",
    )

    REQUIRED = {
        Connection.Provider.SHOPIFY: ("shop_domain", "access_token", "webhook_secret"),
        Connection.Provider.UPS: ("client_id", "client_secret"),
        Connection.Provider.AFTERSHIP: ("api_key",),
        Connection.Provider.TWILIO: ("account_sid", "auth_token"),
        Connection.Provider.WHATSAPP: (
            "phone_number_id",
            "access_token",
            "app_secret",
            "verify_token",
        ),
        Connection.Provider.EMAIL: ("from_email", "inbound_password"),
    }
    # Fields whose value is stored in the credentials under another name.
    STORED_AS = {"app_secret": "webhook_secret", "inbound_password": "webhook_secret"}

    def clean_from_number(self) -> str:
        number = self.cleaned_data["from_number"].strip()
        if number and not re.fullmatch(r"\+[1-9]\d{6,14}", number.replace(" ", "")):
            raise forms.ValidationError("An international number: + then country code and digits.")
        return number.replace(" ", "")

    def clean(self) -> dict:
        data = super().clean()
        provider = data.get("provider")
        for field in self.REQUIRED.get(provider, ()):
            if not data.get(field):
                self.add_error(field, "Required for this provider.")
        if provider == Connection.Provider.TWILIO and not (
            data.get("from_number") or data.get("messaging_service_sid")
        ):
            self.add_error("from_number", "A sending number or a Messaging Service SID.")
        return data

    def credentials(self) -> dict:
        """The chosen provider's fields; a messaging sender stores only its own, so a
        value typed into another provider's field is never kept."""
        fields = MESSAGING_FIELDS.get(self.cleaned_data["provider"], STORE_AND_CARRIER_FIELDS)
        return {
            self.STORED_AS.get(k, k): self.cleaned_data[k]
            for k in fields
            if self.cleaned_data.get(k)
        }


STORE_AND_CARRIER_FIELDS = (
    "shop_domain",
    "access_token",
    "client_id",
    "client_secret",
    "api_key",
    "webhook_secret",
)
MESSAGING_FIELDS = {
    Connection.Provider.TWILIO: (
        "account_sid",
        "auth_token",
        "from_number",
        "messaging_service_sid",
    ),
    Connection.Provider.WHATSAPP: ("phone_number_id", "access_token", "app_secret", "verify_token"),
    Connection.Provider.EMAIL: (
        "from_email",
        "reply_to",
        "inbound_password",
        "postmark_server_token",
    ),
}


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
    rows = list(tenant.connections.order_by("kind", "name"))
    health = connection_checks.webhook_health(rows)
    connections = [(c, sender_identity(c), health.get(c.pk)) for c in rows]
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
