"""The specialist sees whether each message to the customer left, arrived or failed,
and sends a failed one again, once, after reading why it failed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from desk.models import Message
from integrations.messaging import actions as outbox
from integrations.messaging import tasks
from integrations.messaging.models import OutboundMessage
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.desk.test_deciding import escalate
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def sent_to_broker(monkeypatch):
    """Send tasks asked for, instead of the broker's; the test runs them itself."""
    asked = []
    monkeypatch.setattr(
        tasks.send_messages, "delay", lambda *, message_ids: asked.append(message_ids)
    )
    return asked


def _reply(client, contact, body):
    return client.post(
        reverse("desk:reply", kwargs={"contact_id": contact.public_id}), {"body": body}
    )


def _send_again(client, contact, message):
    return client.post(
        reverse(
            "desk:send-again", kwargs={"contact_id": contact.public_id, "message_id": message.pk}
        )
    )


def _page(client, contact) -> str:
    return client.get(
        reverse("desk:contact", kwargs={"contact_id": contact.public_id})
    ).content.decode()


def _badges(page: str) -> list[str]:
    return [text.strip() for text in re.findall(r'delivery-state"[^>]*>([^<]+)<', page)]


def _outbox_row(message) -> OutboundMessage:
    return OutboundMessage.objects.get(idempotency_key=f"desk-message:{message.pk}")


def _interrupt(row):
    """As a worker killed between the claim and the provider's answer leaves it."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        state=OutboundMessage.State.SENDING,
        attempts=1,
        updated_at=timezone.now() - outbox.INTERRUPTED_SEND_GRACE - timedelta(seconds=1),
    )
    tasks.fail_interrupted_sends.run()


PHOTO = "Could you send a photo of the parcel?"


def _replied(client, capture, tenant, specialist=None):
    """An escalated contact a specialist (signed in) has written to; its reply's message."""
    specialist = specialist or make_member(tenant, Role.SPECIALIST)
    contact, _ = escalate(tenant)
    client.force_login(specialist)
    with capture(execute=True):
        _reply(client, contact, PHOTO)  # and claims it
    return contact, contact.messages.get(direction=Message.Direction.OUTBOUND)


def test_each_reply_shows_where_it_stands_with_the_provider(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    contact, message = _replied(client, django_capture_on_commit_callbacks, make_tenant())
    assert _badges(_page(client, contact)) == ["Queued"]
    tasks.send_messages.run(message_ids=sent_to_broker.pop())
    assert _badges(_page(client, contact)) == ["Sent by Email"]
    row = _outbox_row(message)
    outbox.apply_status(row.provider, row.provider_id, "delivered", raw={"RecordType": "Delivery"})
    assert _badges(_page(client, contact))[0].startswith("Delivered")


def test_a_reply_whose_send_was_interrupted_shows_why_and_is_sent_again_once(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    specialist = make_member(tenant, Role.SPECIALIST)
    contact, message = _replied(client, django_capture_on_commit_callbacks, tenant, specialist)
    sent_to_broker.clear()
    _interrupt(_outbox_row(message))

    page = _page(client, contact)
    assert _badges(page) == ["Not delivered"]
    assert "may or may not have it" in page
    assert "Send again" in page

    with django_capture_on_commit_callbacks(execute=True):
        first = _send_again(client, contact, message)
        second = _send_again(client, contact, message)  # a double click
    assert first.status_code == 302
    assert second.status_code == 409
    assert sent_to_broker == [[_outbox_row(message).pk]]
    tasks.send_messages.run(message_ids=sent_to_broker[0])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body == PHOTO
    assert _outbox_row(message).state == "sent"
    event = AuditEvent.objects.get(tenant=tenant, verb="message.sent_again")
    assert event.actor_user == specialist
    assert "Send again" not in _page(client, contact)


def test_only_people_who_decide_in_that_merchant_may_send_again(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact, message = _replied(client, django_capture_on_commit_callbacks, tenant)
    _interrupt(_outbox_row(message))

    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    assert "Send again" not in _page(client, contact)
    assert _send_again(client, contact, message).status_code == 403

    other = make_tenant()
    client.force_login(make_member(other, Role.SPECIALIST))
    assert _send_again(client, contact, message).status_code == 404

    # Another contact's message, or a customer's own message, is not this contact's reply.
    client.force_login(make_member(tenant, Role.LEAD))
    elsewhere, _ = escalate(tenant)
    assert _send_again(client, elsewhere, message).status_code == 404
    inbound = contact.messages.get(direction=Message.Direction.INBOUND)
    assert _send_again(client, contact, inbound).status_code == 404
    assert _outbox_row(message).state == "failed"


def test_a_live_claim_by_someone_else_keeps_the_message_as_it_is(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact, message = _replied(client, django_capture_on_commit_callbacks, tenant)
    _interrupt(_outbox_row(message))
    client.force_login(make_member(tenant, Role.SPECIALIST))
    assert _send_again(client, contact, message).status_code == 409
    assert _outbox_row(message).state == "failed"


def test_a_reply_to_a_customer_who_opted_out_says_so_and_offers_no_send_again(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact, _ = escalate(tenant)
    outbox.opt_out(tenant, "email", contact.customer_email, source="test")
    client.force_login(make_member(tenant, Role.SPECIALIST))
    with django_capture_on_commit_callbacks(execute=True):
        _reply(client, contact, PHOTO)
    tasks.send_messages.run(message_ids=sent_to_broker.pop())
    page = _page(client, contact)
    assert _badges(page) == ["Not sent: customer opted out"]
    assert "Send again" not in page
    assert mail.outbox == []


def _deliveries(client, contact):
    return client.get(reverse("desk:deliveries", kwargs={"contact_id": contact.public_id}))


def test_each_message_s_state_has_its_own_place_on_the_page_for_live_swaps(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    contact, message = _replied(client, django_capture_on_commit_callbacks, make_tenant())
    page = _page(client, contact)
    assert f'id="delivery-{message.pk}"' in page
    assert f'id="delivery-failure-{message.pk}"' in page
    assert 'id="deliveries-changed"' in page


def test_an_open_conversation_fetches_the_states_again_as_its_viewer_may_see_them(
    client, sent_to_broker, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    contact, message = _replied(client, django_capture_on_commit_callbacks, tenant)
    _interrupt(_outbox_row(message))

    fragment = _deliveries(client, contact).content.decode()
    assert f'<span id="delivery-{message.pk}" hx-swap-oob="true">' in fragment
    assert f'<div id="delivery-failure-{message.pk}" hx-swap-oob="true">' in fragment
    assert _badges(fragment) == ["Not delivered"]
    assert "Send again" in fragment

    # The same states for someone who may look but not decide, without the button.
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    fragment = _deliveries(client, contact).content.decode()
    assert _badges(fragment) == ["Not delivered"]
    assert "Send again" not in fragment

    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    assert _deliveries(client, contact).status_code == 404
