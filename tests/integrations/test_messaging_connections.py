"""Per-tenant sender identities on the connections page: Twilio SMS, WhatsApp Cloud
API and email, with the inbound webhook URL to paste into the provider."""

from __future__ import annotations

import json

import pytest
from django.db import connection as db
from django.urls import reverse

from integrations.messaging.actions import client_for
from integrations.messaging.webhooks import whatsapp_signature
from integrations.models import Connection, WebhookEvent
from tenants.roles import Role
from tests.factories import apply_webhooks, log_in, make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return make_tenant()


@pytest.fixture
def manager(client, tenant):
    user = make_member(tenant, Role.ACCOUNT_MANAGER)
    log_in(client, user)
    return user


def _page(tenant) -> str:
    return reverse("connections:page", kwargs={"slug": tenant.slug})


TWILIO_FORM = {
    "provider": "twilio",
    "name": "US SMS",
    "account_sid": "AC" + "1" * 32,
    "auth_token": "twilio-secret-token",
    "from_number": "+1 415 555 0100",
}


def test_a_twilio_sender_is_stored_encrypted_and_the_outbox_sends_from_it(client, tenant, manager):
    response = client.post(_page(tenant), {**TWILIO_FORM, "api_key": "typed-by-mistake"})

    assert response.status_code == 302
    twilio = Connection.objects.get(tenant=tenant)
    assert (twilio.kind, twilio.provider) == ("messaging", "twilio")
    assert twilio.credentials == {
        "account_sid": "AC" + "1" * 32,
        "auth_token": "twilio-secret-token",
        "from_number": "+14155550100",
    }
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT credentials::text FROM integrations_connection WHERE id = %s", [twilio.pk]
        )
        assert "twilio-secret-token" not in cursor.fetchone()[0]
    sms = client_for(tenant.pk, "sms")
    assert (sms.from_number, sms.auth_token) == ("+14155550100", "twilio-secret-token")

    page = client.get(_page(tenant)).content.decode()
    assert f"http://testserver/webhooks/twilio/{twilio.public_id}" in page
    assert "<code>+14155550100</code>" in page
    assert "twilio-secret-token" not in page


def test_twilio_needs_a_sending_number_or_a_messaging_service(client, tenant, manager):
    form = {k: v for k, v in TWILIO_FORM.items() if k != "from_number"}
    response = client.post(_page(tenant), form)
    assert response.status_code == 200
    assert "A sending number or a Messaging Service SID." in response.content.decode()
    bad_number = client.post(_page(tenant), {**TWILIO_FORM, "from_number": "555-0100"})
    assert "An international number" in bad_number.content.decode()
    assert not Connection.objects.exists()


def test_a_whatsapp_sender_signs_its_inbound_webhooks_with_the_app_secret(client, tenant, manager):
    client.post(
        _page(tenant),
        {
            "provider": "whatsapp",
            "name": "WhatsApp",
            "phone_number_id": "106540352242922",
            "access_token": "EAAG-token",
            "app_secret": "meta-app-secret",
            "verify_token": "pineapple",
        },
    )
    whatsapp = Connection.objects.get(tenant=tenant, provider="whatsapp")
    assert whatsapp.credentials["webhook_secret"] == "meta-app-secret"
    assert client_for(tenant.pk, "whatsapp").phone_number_id == "106540352242922"

    url = f"/webhooks/whatsapp/{whatsapp.public_id}"
    handshake = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "pineapple", "hub.challenge": "42"}
    )
    assert handshake.content == b"42"
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    signed = client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": whatsapp_signature("meta-app-secret", body)},
    )
    assert signed.status_code == 200
    assert apply_webhooks() == ["processed"]
    assert WebhookEvent.objects.get().status == "processed"


def test_an_email_sender_shows_postmarks_inbound_url_with_its_credentials(client, tenant, manager):
    client.post(
        _page(tenant),
        {
            "provider": "email",
            "name": "Care mailbox",
            "from_email": "care@shop.example",
            "reply_to": "reply@shop.example",
            "inbound_password": "s3cret",
        },
    )
    mailbox = Connection.objects.get(tenant=tenant, provider="email")
    assert mailbox.credentials == {
        "from_email": "care@shop.example",
        "reply_to": "reply@shop.example",
        "webhook_secret": "s3cret",
    }
    assert client_for(tenant.pk, "email").from_email == "care@shop.example"
    page = client.get(_page(tenant)).content.decode()
    assert f"@testserver/webhooks/email/{mailbox.public_id}" in page
    assert "<code>care@shop.example</code>" in page


def test_without_an_email_connection_the_outbox_sends_from_the_site_address(
    client, tenant, manager, settings
):
    page = client.get(_page(tenant)).content.decode()
    assert f"<code>{settings.DEFAULT_FROM_EMAIL}</code>" in page
    assert page.count("not configured") == 2  # SMS and WhatsApp


def test_a_lead_cannot_add_a_sender(client, tenant):
    log_in(client, make_member(tenant, Role.LEAD))
    assert client.post(_page(tenant), TWILIO_FORM).status_code == 403
    assert not Connection.objects.exists()


def test_a_manager_of_another_tenant_cannot_add_a_sender_here(client, tenant):
    log_in(client, make_member(make_tenant(), Role.ACCOUNT_MANAGER))
    assert client.post(_page(tenant), TWILIO_FORM).status_code == 404
    assert not Connection.objects.exists()
