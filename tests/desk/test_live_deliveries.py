"""A message to the customer that is sent, delivered or fails shows so at once to
whoever has its conversation open, over the contact's websocket."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.urls import reverse

from integrations.messaging import actions as outbox
from integrations.messaging.actions import Draft, queue_message
from integrations.messaging.clients import PermanentError
from integrations.messaging.models import OutboundMessage
from tenants.roles import Role
from tests.desk.test_live_inbox import _connect_contact, _escalate, _session_cookie
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _reply_row(contact) -> OutboundMessage:
    """A specialist's reply to the contact, queued in the outbox as the desk queues it."""
    from desk import actions

    specialist = make_member(contact.tenant, Role.SPECIALIST)
    actions.send_reply(contact, specialist, "Could you send a photo of the parcel?")
    return OutboundMessage.objects.get(
        tenant=contact.tenant, idempotency_key__startswith="desk-message:"
    )


def _refetch(contact) -> str:
    url = reverse("desk:deliveries", kwargs={"contact_id": contact.public_id})
    return f'hx-get="{url}"'


def _watch(client, contact, change) -> list[str]:
    """What an open conversation of ``contact`` is pushed while ``change`` runs."""
    cookie = _session_cookie(client, make_member(contact.tenant, Role.SPECIALIST))

    async def scenario():
        viewer, connected, _ = await _connect_contact(cookie, contact)
        assert connected
        await viewer.receive_from(timeout=5)  # presence
        await sync_to_async(change)()
        pushed = []
        while not await viewer.receive_nothing(timeout=0.5):
            pushed.append(await viewer.receive_from(timeout=5))
        await viewer.disconnect()
        return pushed

    return asyncio.run(scenario())


def test_a_failed_reply_tells_the_open_conversation_to_fetch_its_states(client):
    contact = _escalate(make_tenant())
    row = _reply_row(contact)

    def provider_refuses():
        outbox.fail(row, PermanentError("Recipient address rejected", code="406"))

    pushed = _watch(client, contact, provider_refuses)
    assert len(pushed) == 1
    assert 'id="deliveries-changed"' in pushed[0] and _refetch(contact) in pushed[0]
    assert 'hx-trigger="load"' in pushed[0]


def test_a_provider_s_delivery_callback_reaches_the_open_conversation(client):
    contact = _escalate(make_tenant())
    row = _reply_row(contact)
    OutboundMessage.objects.filter(pk=row.pk).update(
        state=OutboundMessage.State.SENT, provider="postmark", provider_id="pm-1"
    )

    def delivered():
        outbox.apply_status("postmark", "pm-1", "delivered", raw={"RecordType": "Delivery"})

    assert [_refetch(contact) in push for push in _watch(client, contact, delivered)] == [True]


def test_a_reply_queued_before_rows_named_their_conversation_still_reaches_it(client):
    contact = _escalate(make_tenant())
    row = _reply_row(contact)
    OutboundMessage.objects.filter(pk=row.pk).update(context={})
    row.refresh_from_db()

    def provider_refuses():
        outbox.fail(row, PermanentError("Mailbox unavailable", code="422"))

    assert [_refetch(contact) in push for push in _watch(client, contact, provider_refuses)] == [
        True
    ]


def test_a_message_that_is_no_desk_reply_pushes_nothing_to_the_conversation(client):
    contact = _escalate(make_tenant())
    nudge, _ = queue_message(
        contact.tenant,
        Draft(
            channel="email",
            to=contact.customer_email,
            body="Your parcel is out for delivery.",
            idempotency_key="nudge:out-for-delivery:1",
            trigger="out_for_delivery",
        ),
        enqueue=False,
    )

    def nudge_fails():
        outbox.fail(nudge, PermanentError("Mailbox unavailable", code="422"))

    assert _watch(client, contact, nudge_fails) == []
