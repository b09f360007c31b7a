"""Gorgias HTTP integration deliveries through the real webhook URL: the shared
token, the raw delivery kept, tickets becoming contacts, redeliveries without effect."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from desk.models import Contact
from integrations.messaging.models import InboundMessage
from integrations.models import WebhookEvent
from tests.factories import apply_webhooks, make_contact
from tests.integrations.gorgias.conftest import SECRET, fixture

pytestmark = pytest.mark.django_db


def _post(client, connection, payload, *, token=SECRET, raw=None):
    response = client.post(
        f"/webhooks/gorgias/{connection.public_id}",
        data=raw if raw is not None else json.dumps(payload),
        content_type="application/json",
        headers={"X-Desk-Token": token} if token else {},
    )
    response.applied = apply_webhooks()
    return response


def test_a_new_ticket_becomes_a_contact_that_remembers_the_ticket(client, gorgias, tenant):
    response = _post(client, gorgias, fixture("ticket_created.json", ORDER_NUMBER="5123"))

    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert response.applied == ["processed"]
    contact = Contact.objects.get(tenant=tenant)
    assert contact.channel == "email"
    assert contact.customer_email == "ada.lovelace@example.com"
    assert contact.customer_name == "Ada Lovelace"
    assert contact.subject == "Where is my parcel?"
    first = contact.messages.get()
    # The customer's words without the signature, and what a reply needs.
    assert first.body == "Hello, my order #5123 has not arrived yet. Where is it?"
    assert first.raw["ticket_id"] == 86538298
    assert first.raw["customer_id"] == 387705374
    assert first.raw["support_address"] == "support@northwind.example"
    assert contact.idempotency_key == f"gorgias:{gorgias.public_id}:86538298:208822164"
    kept = WebhookEvent.objects.get()
    assert kept.status == "processed" and json.loads(kept.body)["ticket"]["id"] == 86538298


def test_a_customer_message_on_the_ticket_joins_its_open_contact(client, gorgias, tenant):
    _post(client, gorgias, fixture("ticket_created.json", ORDER_NUMBER="5123"))
    _post(client, gorgias, fixture("ticket_message_created.json"))

    contact = Contact.objects.get(tenant=tenant)
    assert [m.body for m in contact.messages.order_by("created_at")] == [
        "Hello, my order #5123 has not arrived yet. Where is it?",
        "The tracking page still says in transit.",
    ]
    assert InboundMessage.objects.get(provider_id="208841467").state == "threaded"


def test_a_ticket_answering_a_resolution_reopens_its_contact(client, gorgias, tenant):
    from tenants.models import AuditEvent

    _post(client, gorgias, fixture("ticket_created.json", ORDER_NUMBER="5123"))
    Contact.objects.filter(tenant=tenant).update(
        status="resolved", resolution="human", resolved_at=timezone.now() - timedelta(hours=2)
    )

    _post(client, gorgias, fixture("ticket_message_created.json"))

    contact = Contact.objects.get(tenant=tenant)
    assert (contact.status, contact.resolution) == ("escalated", "")
    assert contact.messages.filter(direction="inbound").last().body == (
        "The tracking page still says in transit."
    )
    assert AuditEvent.objects.filter(tenant=tenant, verb="contact.reopen").count() == 1


def test_a_ticket_whose_contact_was_resolved_long_ago_opens_a_new_contact(client, gorgias, tenant):
    _post(client, gorgias, fixture("ticket_created.json", ORDER_NUMBER="5123"))
    Contact.objects.filter(tenant=tenant).update(
        status="resolved", resolved_at=timezone.now() - timedelta(hours=73)
    )

    _post(client, gorgias, fixture("ticket_message_created.json"))

    assert Contact.objects.filter(tenant=tenant).count() == 2
    newest = Contact.objects.filter(tenant=tenant).order_by("-created_at").first()
    assert newest.status == "received"
    assert newest.idempotency_key.endswith(":86538298:208841467")


def test_a_redelivered_message_has_no_second_effect(client, gorgias, tenant):
    payload = fixture("ticket_created.json", ORDER_NUMBER="5123")
    _post(client, gorgias, payload)
    again = _post(client, gorgias, payload)

    assert again.status_code == 200
    assert again.applied == ["ignored"]
    assert Contact.objects.filter(tenant=tenant).count() == 1
    assert Contact.objects.get(tenant=tenant).messages.count() == 1
    assert WebhookEvent.objects.filter(status="processed").count() == 2  # both kept


def test_agent_replies_including_ours_are_left_alone(client, gorgias, tenant):
    response = _post(client, gorgias, fixture("agent_message_created.json"))

    assert response.applied == ["ignored"]
    assert not Contact.objects.filter(tenant=tenant).exists()
    assert WebhookEvent.objects.get().error == "Ignored: An agent's message"


def test_a_wrong_or_missing_token_is_refused_and_kept(client, gorgias, tenant):
    payload = fixture("ticket_created.json", ORDER_NUMBER="5123")
    wrong = _post(client, gorgias, payload, token="not-the-secret")
    missing = _post(client, gorgias, payload, token="")

    assert wrong.status_code == missing.status_code == 401
    assert WebhookEvent.objects.filter(status="rejected").count() == 2
    assert not Contact.objects.filter(tenant=tenant).exists()


def test_a_body_that_is_not_json_is_a_400(client, gorgias):
    response = _post(client, gorgias, None, raw="ticket=86538298")

    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == "rejected"


def test_a_json_object_that_is_no_ticket_fails_with_the_reason(client, gorgias, tenant):
    response = _post(client, gorgias, {"hello": "world"})

    assert response.status_code == 200 and response.applied == ["failed"]
    assert "neither a ticket nor a message" in WebhookEvent.objects.get().error
    assert not Contact.objects.filter(tenant=tenant).exists()


def test_contacts_from_elsewhere_are_untouched_by_a_ticket(client, gorgias, tenant):
    other = make_contact(tenant, customer_email="ada.lovelace@example.com")
    _post(client, gorgias, fixture("ticket_message_created.json"))

    assert other.messages.count() == 1
    assert Contact.objects.filter(tenant=tenant).count() == 2
