"""Gorgias tickets in the desk: a ticket's customer messages thread into one contact.

The contact opened by a ticket carries the ticket in its idempotency key
(``gorgias:<connection>:<ticket>:<first message>``), so a redelivered ticket
is the same contact, and the desk's replies find their way back to the
ticket. A customer writing again on a ticket whose contact was resolved in the
last 72 hours reopens that contact, as Gorgias reopens the ticket; after that,
it opens a new contact on the same ticket.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.gorgias.mapping import TicketMessage, contact_key, parse_key, ticket_prefix
from integrations.messaging.actions import find_or_create_customer
from integrations.messaging.models import Channel, InboundMessage
from integrations.models import Connection
from tenants.actor import Actor

ACTOR = Actor.system("gorgias")


def _inbound_channel(message: TicketMessage) -> str:
    return {"sms": Channel.SMS, "whatsapp": Channel.WHATSAPP}.get(message.channel, Channel.EMAIL)


@transaction.atomic
def receive(connection: Connection, message: TicketMessage) -> InboundMessage | None:
    """Keep a ticket's customer message once and put it on the ticket's open contact,
    or open one. Returns None when the message was already received."""
    from billing.models import REOPEN_WINDOW
    from desk import live
    from desk.actions import create_contact, customer_replied, reopen
    from desk.models import Contact
    from desk.thanks import only_thanks

    tenant = connection.tenant
    provider_id = str(message.message_id)
    if InboundMessage.objects.filter(
        tenant=tenant, provider=connection.provider, provider_id=provider_id
    ).exists():
        return None
    inbound = InboundMessage.objects.create(
        tenant=tenant,
        connection=connection,
        channel=_inbound_channel(message),
        provider=connection.provider,
        provider_id=provider_id,
        sender=message.customer_email,
        sender_name=message.customer_name[:160],
        subject=message.subject[:255],
        body=message.body,
        raw=message.raw,
        sent_at=message.sent_at,
    )
    connection_id = str(connection.public_id)
    raw = {
        "inbound_message": str(inbound.public_id),
        **message.reply_context(connection_id),
    }
    prefix = ticket_prefix(connection_id, message.ticket_id)
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, idempotency_key__startswith=prefix)
        .filter(
            ~Q(status=Contact.Status.RESOLVED) | Q(resolved_at__gte=timezone.now() - REOPEN_WINDOW)
        )
        .order_by("-created_at")
        .first()
    )
    if contact is None:
        customer = find_or_create_customer(
            tenant, Channel.EMAIL, message.customer_email, message.customer_name
        )
        contact = create_contact(
            tenant,
            actor=ACTOR,
            channel=message.contact_channel,
            customer_email=message.customer_email,
            customer=customer,
            customer_name=message.customer_name or customer.name,
            subject=message.subject,
            body=message.body,
            raw=raw,
            idempotency_key=contact_key(connection_id, message.ticket_id, message.message_id),
        )
        inbound.state = InboundMessage.State.NEW_CONTACT
    else:
        if contact.status == Contact.Status.RESOLVED and not only_thanks(message.body):
            reopen(contact, "The customer answered the resolution on the ticket.", actor=ACTOR)
        customer_replied(contact, message.body, raw=raw, channel=inbound.channel)
        contact.save(update_fields=["updated_at"])
        live.push_inbox_on_commit(contact)
        inbound.state = InboundMessage.State.THREADED
    inbound.contact_public_id = contact.public_id
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["state", "contact_public_id", "processed_at"])
    return inbound


def ticket_of(contact) -> tuple[Connection, dict] | None:
    """The Gorgias connection and reply context of a contact opened by a ticket, if it was."""
    parsed = parse_key(contact.idempotency_key)
    if parsed is None:
        return None
    connection = Connection.objects.filter(
        tenant_id=contact.tenant_id, public_id=parsed[0], provider="gorgias"
    ).first()
    if connection is None:
        return None
    first = contact.messages.filter(raw__provider="gorgias").order_by("created_at").first()
    context = dict(first.raw) if first else {"ticket_id": parsed[1]}
    context["connection"] = parsed[0]
    context["ticket_id"] = parsed[1]
    return connection, context


def note_on_contact(contact_id: int, text: str, raw: dict) -> None:
    """Put what Gorgias refused on the case, in its own words, for the specialists."""
    from desk.models import Message

    Message.objects.create(
        contact_id=contact_id,
        direction=Message.Direction.INTERNAL,
        author_type=Message.Author.AGENT,
        body=text,
        raw={"provider": "gorgias", **raw},
    )
