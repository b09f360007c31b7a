"""Customers' messages from SMS, WhatsApp and email, threaded into contacts.

The messaging webhooks keep each message once (``InboundMessage``) and hand it
here by task. A message that answers an open contact is appended to it, and the
contact's SLA clocks, paused while the desk waited on the customer, run again;
an email answering a contact resolved in the last 72 hours reopens it for a
specialist, unless it only says thanks (``desk.thanks``); anything else starts a
contact of its own and the agent takes it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import REOPEN_WINDOW
from desk import delivery, live
from desk.actions import create_contact, customer_replied, reopen
from desk.models import Contact, Message
from desk.thanks import only_thanks
from integrations.messaging.actions import find_or_create_customer
from integrations.messaging.models import Channel, InboundMessage, OutboundMessage
from integrations.models import Customer
from tenants.actor import Actor

CONTACT_CHANNEL = {
    Channel.EMAIL: Contact.Channel.EMAIL,
    Channel.SMS: Contact.Channel.SMS,
    Channel.WHATSAPP: Contact.Channel.WHATSAPP,
}

ACTOR = Actor.system("inbound")


def thread_window() -> timedelta:
    """How long an open contact stays the place a customer's next message goes."""
    return timedelta(days=settings.INBOUND_THREAD_DAYS)


@transaction.atomic
def thread_inbound(inbound_message_id: int) -> InboundMessage | None:
    """Append a received customer message to their open contact, or start a contact.

    Idempotent: the message row is locked and only one still ``received`` is
    threaded, so a redelivered task changes nothing. Returns None when there
    was nothing (left) to do."""
    inbound = (
        InboundMessage.objects.select_for_update()
        .select_related("tenant")
        .filter(pk=inbound_message_id, state=InboundMessage.State.RECEIVED)
        .first()
    )
    if inbound is None:
        return None
    tenant = inbound.tenant
    customer = find_or_create_customer(tenant, inbound.channel, inbound.sender, inbound.sender_name)
    contact = _answered_contact(inbound, customer) or _open_contact(inbound, customer)
    if contact is None:
        contact = create_contact(
            tenant,
            actor=ACTOR,
            channel=CONTACT_CHANNEL[inbound.channel],
            customer_email=customer.email,
            customer=customer,
            customer_name=inbound.sender_name or customer.name,
            subject=inbound.subject,
            body=inbound.body,
            raw=_raw(inbound),
        )
        inbound.state = InboundMessage.State.NEW_CONTACT
    else:
        if contact.status == Contact.Status.RESOLVED and not only_thanks(inbound.body):
            reopen(contact, "The customer answered the resolution.", actor=ACTOR)
        _append(contact, inbound)
        inbound.state = InboundMessage.State.THREADED
    inbound.contact_public_id = contact.public_id
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["state", "contact_public_id", "processed_at"])
    return inbound


def _raw(inbound: InboundMessage) -> dict:
    return {
        "inbound_message": str(inbound.public_id),
        "provider": inbound.provider,
        "provider_id": inbound.provider_id,
    }


def _open(tenant_id: int):
    return Contact.objects.filter(tenant_id=tenant_id).exclude(status=Contact.Status.RESOLVED)


def _answerable(tenant_id: int):
    """Contacts an email reply may join: open ones, and those resolved recently enough
    that an answer to them reopens them (the reopen window billing counts)."""
    return Contact.objects.filter(tenant_id=tenant_id).filter(
        ~Q(status=Contact.Status.RESOLVED) | Q(resolved_at__gte=timezone.now() - REOPEN_WINDOW)
    )


def _answered_contact(inbound: InboundMessage, customer: Customer) -> Contact | None:
    """An email reply names the Message-IDs it answers; ours are in the outbox, and
    the outbox row leads to the desk message and its contact. A contact resolved
    within the reopen window is answered too, and reopens; an older one is not."""
    if inbound.channel != Channel.EMAIL or not inbound.thread_refs:
        return None
    keys = {}
    for provider_id, email_message_id, key in OutboundMessage.objects.filter(
        Q(provider_id__in=inbound.thread_refs) | Q(email_message_id__in=inbound.thread_refs),
        tenant_id=inbound.tenant_id,
        channel=Channel.EMAIL,
    ).values_list("provider_id", "email_message_id", "idempotency_key"):
        keys[email_message_id or provider_id] = key
    # The nearest reference (In-Reply-To) wins over older ones in References.
    for ref in inbound.thread_refs:
        pks = delivery.message_pks_for([keys[ref]]) if ref in keys else []
        contact = _answerable(inbound.tenant_id).filter(messages__pk__in=pks).first()
        if contact is not None:
            return contact
    return None


def _open_contact(inbound: InboundMessage, customer: Customer) -> Contact | None:
    """The customer's most recent open contact on this channel, active lately."""
    contacts = _open(inbound.tenant_id)
    if inbound.channel == Channel.EMAIL:
        # Contacts from the API, a form or chat are answered by email, and may
        # name the customer by email address only.
        contacts = contacts.filter(
            Q(customer=customer) | Q(customer_email__iexact=inbound.sender)
        ).exclude(channel__in=list(delivery.ANSWER_ON))
    else:
        contacts = contacts.filter(customer=customer, channel=CONTACT_CHANNEL[inbound.channel])
    return (
        contacts.filter(updated_at__gte=timezone.now() - thread_window())
        .order_by("-updated_at")
        .first()
    )


def _append(contact: Contact, inbound: InboundMessage) -> Message:
    """The customer wrote again: add it to the contact, end a wait on the
    customer (a wait on the carrier goes on), tell the inbox."""
    locked = Contact.objects.select_for_update(of=("self",)).get(pk=contact.pk)
    message = customer_replied(locked, inbound.body, raw=_raw(inbound), channel=inbound.channel)
    locked.save(update_fields=["updated_at"])
    live.push_inbox_on_commit(locked)
    return message
