"""Everything the desk writes to a customer leaves through the outbox, on the
channel the customer used: opt-outs, quiet retries and provider status apply
to agent replies, specialist replies, holding messages and surveys alike."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Exists, OuterRef
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from desk import csat, live
from desk.models import Contact, Message
from integrations.messaging.actions import Draft, queue_new_messages
from integrations.messaging.models import Channel, OutboundMessage
from tenants.actor import Actor

# Channels the customer wrote on that we can answer on; the rest get email.
ANSWER_ON = {Contact.Channel.SMS: Channel.SMS, Contact.Channel.WHATSAPP: Channel.WHATSAPP}


KEY_PREFIX = "desk-message:"
DESK_TRIGGER = "desk_reply"


def message_pks_for(idempotency_keys: list[str]) -> list[int]:
    """The desk messages behind outbox rows, by the key ``deliver`` gave them."""
    return [
        int(key.removeprefix(KEY_PREFIX))
        for key in idempotency_keys
        if key.startswith(KEY_PREFIX) and key.removeprefix(KEY_PREFIX).isdigit()
    ]


def deliver(message: Message) -> None:
    """Queue one outbound desk message the caller's transaction has just written."""
    deliver_all([message])


def deliver_all(messages: list[Message]) -> None:
    """Queue outbound desk messages of one contact the caller's transaction has just
    written, each once (keyed by its message row, so no earlier entry can exist), in
    one insert. A contact opened by a helpdesk ticket is answered on the ticket."""
    if not messages:
        return
    contact = messages[0].contact
    queue_new_messages(contact.tenant, [_draft(contact, message) for message in messages])


def _draft(contact: Contact, message: Message) -> Draft:
    from integrations.gorgias.outbox import reply_draft

    ticket_draft = reply_draft(message, idempotency_key=f"{KEY_PREFIX}{message.pk}")
    if ticket_draft is not None:
        # On a helpdesk ticket everything leaves with the answer, survey included:
        # the ticket is closed once its messages are posted.
        ticket_draft.context = {**(ticket_draft.context or {}), **_shown_on(contact)}
        return ticket_draft
    channel = ANSWER_ON.get(contact.channel, Channel.EMAIL)
    customer = contact.customer
    to = (
        contact.customer_email if channel == Channel.EMAIL else (customer.phone if customer else "")
    )
    # A survey is held in the queue for the merchant's delay; the due-message sweep
    # sends it then.
    until = csat.due_at(contact, message)
    return Draft(
        channel=channel,
        to=to,
        body=message.body,
        subject=f"Re: {contact.subject}"
        if contact.subject
        else f"Your message to {contact.tenant.name}",
        idempotency_key=f"{KEY_PREFIX}{message.pk}",
        customer=customer,
        order=contact.order,
        trigger=DESK_TRIGGER,
        skip_reason="" if to else OutboundMessage.SkipReason.NO_CHANNEL,
        send_after=until,
        defer_reason=csat.DEFER_REASON if until else "",
        context=_shown_on(contact),
    )


def _shown_on(contact: Contact) -> dict:
    """Which conversation shows the message, so a change of its delivery state reaches
    the people who have it open without a query (``live.push_delivery_change``)."""
    return {"contact_id": contact.pk, "contact_ref": str(contact.public_id)}


def with_deliveries(contact: Contact, messages: list[Message]) -> list[Message]:
    """Give each outbound message its outbox row as ``delivery`` (None if it was never
    queued, as for messages older than the outbox), so the specialist sees whether it
    left, arrived, or failed and why. One query for the whole conversation."""
    outbound = {f"{KEY_PREFIX}{m.pk}": m for m in messages if m.direction == m.Direction.OUTBOUND}
    for message in messages:
        message.delivery = None
    if outbound:
        for row in OutboundMessage.objects.filter(
            tenant_id=contact.tenant_id, idempotency_key__in=list(outbound)
        ):
            outbound[row.idempotency_key].delivery = row
    return messages


def outbox_row_for(contact: Contact, message_id: str) -> OutboundMessage | None:
    """The outbox row of one of this contact's own outbound messages, or None."""
    message = (
        contact.messages.filter(direction=Message.Direction.OUTBOUND, pk=message_id).first()
        if str(message_id).isdigit()
        else None
    )
    if message is None:
        return None
    return OutboundMessage.objects.filter(
        tenant_id=contact.tenant_id, idempotency_key=f"{KEY_PREFIX}{message.pk}"
    ).first()


def push_delivery_change(sender, message: OutboundMessage, **kwargs) -> None:
    """Receiver of the outbox's ``delivery_changed``: a desk message that moved is shown
    moving to whoever has its conversation open."""
    if not message.idempotency_key.startswith(KEY_PREFIX):
        return
    shown_on = message.context or {}
    contact_id, public_id = shown_on.get("contact_id"), shown_on.get("contact_ref")
    if not (contact_id and public_id):
        # Queued before outbox rows said which conversation shows them.
        found = (
            Contact.objects.filter(
                tenant_id=message.tenant_id,
                messages__pk__in=message_pks_for([message.idempotency_key]),
            )
            .values_list("pk", "public_id")
            .first()
        )
        if found is None:
            return
        contact_id, public_id = found
    live.push_deliveries(contact_id, public_id)


def reopen_when_an_answer_fails(sender, message: OutboundMessage, **kwargs) -> None:
    """Receiver of the outbox's ``delivery_changed``: see ``reopen_if_answer_failed``."""
    reopen_if_answer_failed(message)


def reopen_if_answer_failed(row: OutboundMessage) -> bool:
    """A resolved contact whose answer failed to reach the customer comes back to the
    inbox, so a person reaches them another way. Only the answer it was resolved
    with counts: not the satisfaction survey, not an older message failing late, not
    a failure from before the contact was last resolved (a specialist closed it
    since, having answered another way). Returns whether it reopened."""
    if row.state != OutboundMessage.State.FAILED or not row.idempotency_key.startswith(KEY_PREFIX):
        return False
    failed = (
        Message.objects.select_related("contact__tenant")
        .filter(
            pk__in=message_pks_for([row.idempotency_key]),
            contact__tenant_id=row.tenant_id,
            contact__status=Contact.Status.RESOLVED,
        )
        .first()
    )
    if failed is None or failed.raw.get("kind") == "csat_survey":
        return False
    resolved_at = failed.contact.resolved_at
    if row.failed_at and resolved_at and resolved_at > row.failed_at:
        return False
    outbound = failed.contact.messages.filter(direction=Message.Direction.OUTBOUND)
    latest_answer = next(
        (
            pk
            for pk, raw in outbound.order_by("-created_at", "-pk").values_list("pk", "raw")
            if raw.get("kind") != "csat_survey"
        ),
        None,
    )
    if latest_answer != failed.pk:
        return False
    from desk.actions import reopen  # desk.actions delivers through this module

    return reopen(
        failed.contact,
        f"The answer did not reach the customer: {row.error}"[:255],
        actor=Actor.system("outbox"),
    )


# How far back the sweep looks: a failure is heard of at once, so only one whose
# reopen was lost with its process is left for the sweep, minutes later.
MISSED_REOPEN_LOOKBACK = timedelta(hours=24)


def reopen_missed(now: datetime | None = None, *, limit: int = 200) -> int:
    """Reopen the contacts whose failed answer was not heard of: the process that saw
    the failure died before reopening. One query finds the failed answers whose
    contact is still resolved since before the failure; each is then checked as the
    receiver checks it. Safe to overlap: a contact reopens once."""
    now = now or timezone.now()
    answered = Message.objects.filter(
        pk=Cast(Substr(OuterRef("idempotency_key"), len(KEY_PREFIX) + 1), BigIntegerField()),
        contact__tenant_id=OuterRef("tenant_id"),
        contact__status=Contact.Status.RESOLVED,
        contact__resolved_at__lte=OuterRef("failed_at"),
    )
    rows = (
        OutboundMessage.objects.filter(
            state=OutboundMessage.State.FAILED,
            failed_at__gte=now - MISSED_REOPEN_LOOKBACK,
            trigger=DESK_TRIGGER,
            idempotency_key__regex=rf"^{KEY_PREFIX}[0-9]+$",
        )
        .filter(Exists(answered))
        .order_by("failed_at")[:limit]
    )
    return sum(reopen_if_answer_failed(row) for row in rows)
