"""The desk's replies on a Gorgias ticket leave through the outbox like any other
message (opt-outs, retries with backoff, the provider's answer kept), but are
posted to the ticket as an outgoing message instead of being mailed, so the
merchant's agents see the whole conversation in Gorgias.

A reply is posted at most once: the outbox claims a message before sending
it, and a retry after an answer we never saw (a timeout, a 5xx) first looks
on the ticket for a message carrying our ``external_id``.
"""

from __future__ import annotations

from typing import Any

from integrations.gorgias.client import GorgiasClient, GorgiasError
from integrations.gorgias.mapping import reply_message
from integrations.messaging.actions import Draft
from integrations.messaging.clients import OutgoingMessage, PermanentError, Sent, TemporaryError
from integrations.messaging.models import Channel, OutboundMessage
from integrations.models import Connection


def reply_draft(message, *, idempotency_key: str) -> Draft | None:
    """The outbox entry for a desk message on a contact opened by a Gorgias ticket;
    None for any other contact."""
    from integrations.gorgias.inbound import ticket_of

    contact = message.contact
    found = ticket_of(contact)
    if found is None:
        return None
    _, context = found
    to = context.get("customer_email") or contact.customer_email
    return Draft(
        channel=Channel.EMAIL,
        to=to,
        body=message.body,
        subject=f"Re: {contact.subject}" if contact.subject else "",
        idempotency_key=idempotency_key,
        customer=contact.customer,
        order=contact.order,
        trigger="desk_reply",
        context={"gorgias": context, "contact_id": contact.pk},
        skip_reason="" if to else OutboundMessage.SkipReason.NO_CHANNEL,
    )


def external_id(reference: str) -> str:
    return f"desk-outbox:{reference}"


class GorgiasSender:
    """Posts one outbox message on its ticket; raises the outbox's Temporary/PermanentError."""

    provider = "gorgias"

    def __init__(
        self,
        client: GorgiasClient,
        context: dict[str, Any],
        *,
        agent_email: str,
        look_first: bool = False,
        contact_id: int | None = None,
    ) -> None:
        self.client = client
        self.context = context
        self.agent_email = agent_email
        self.look_first = look_first
        self.contact_id = contact_id

    @classmethod
    def for_message(cls, message: OutboundMessage) -> GorgiasSender:
        context = message.context["gorgias"]
        connection = Connection.objects.filter(
            tenant_id=message.tenant_id,
            public_id=context["connection"],
            provider="gorgias",
            is_active=True,
        ).first()
        if connection is None:
            raise PermanentError("The Gorgias connection of this ticket is gone or inactive")
        try:
            client = GorgiasClient.for_credentials(connection.credentials)
        except GorgiasError as exc:
            raise PermanentError(exc.message) from exc
        return cls(
            client,
            context,
            agent_email=connection.credentials.get("email", ""),
            # A second attempt may follow one that reached Gorgias unseen.
            look_first=message.attempts > 1,
            contact_id=message.context.get("contact_id"),
        )

    def send(self, message: OutgoingMessage, *, session_open: bool = False) -> Sent:
        ticket_id = int(self.context["ticket_id"])
        ours = external_id(message.reference)
        try:
            if self.look_first:
                posted = self.client.find_message(ticket_id, ours)
                if posted is not None:
                    return Sent(self.provider, str(posted.get("id", "")), {"found": posted})
            posted = self.client.create_message(
                ticket_id,
                reply_message(
                    self.context, body=message.body, agent_email=self.agent_email, external_id=ours
                ),
            )
        except GorgiasError as exc:
            if not exc.permanent:
                raise TemporaryError(exc.message, response=exc.response, code=exc.status) from exc
            if self.contact_id:
                from integrations.gorgias.inbound import note_on_contact

                note_on_contact(
                    self.contact_id,
                    f"Gorgias did not take the reply on ticket {ticket_id}: {exc.message}",
                    {"ticket_id": ticket_id, "status": exc.status, "response": exc.response},
                )
            raise PermanentError(exc.message, response=exc.response, code=exc.status) from exc
        return Sent(self.provider, str(posted.get("id", "")), posted)
