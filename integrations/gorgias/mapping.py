"""Gorgias payloads → our dataclasses, and our replies → Gorgias ticket messages.

The HTTP integration posts its template context (``{{context}}``): a
``ticket`` object (TicketHttpIntegration, with ``messages``) for
``ticket-created``, and a ``message`` (TicketMessage) beside the ticket for
``ticket-message-created``. Only public customer messages (``from_agent``
false) become desk messages; the agents' own replies, ours included, come
back through the same trigger and are left alone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Gorgias channel → the desk's Contact.Channel; everything else arrived by API.
CONTACT_CHANNEL = {
    "email": "email",
    "chat": "chat",
    "sms": "sms",
    "whatsapp": "whatsapp",
    "contact_form": "form",
    "help-center": "form",
}
KEY_PREFIX = "gorgias"


@dataclass(frozen=True)
class TicketMessage:
    """One customer message on a Gorgias ticket, as the desk needs it."""

    ticket_id: int
    message_id: int
    channel: str
    customer_email: str
    customer_name: str
    body: str
    subject: str
    sent_at: datetime
    customer_id: int | None = None
    # The address the customer wrote to: our reply leaves from it.
    support_address: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def contact_channel(self) -> str:
        return CONTACT_CHANNEL.get(self.channel, "api")

    def reply_context(self, connection_public_id: str) -> dict[str, Any]:
        """What a reply on this ticket needs, kept on the contact's first message."""
        return {
            "provider": "gorgias",
            "connection": connection_public_id,
            "ticket_id": self.ticket_id,
            "message_id": self.message_id,
            "channel": self.channel,
            "customer_id": self.customer_id,
            "customer_email": self.customer_email,
            "support_address": self.support_address,
        }


class NotACustomerMessage(Exception):
    """A valid delivery that carries nothing for the desk (an agent's reply, a note)."""


def contact_key(connection_public_id: str, ticket_id: int, message_id: int) -> str:
    """The contact's idempotency key: the Gorgias ticket and the message that opened it."""
    return f"{ticket_prefix(connection_public_id, ticket_id)}{message_id}"


def ticket_prefix(connection_public_id: str, ticket_id: int) -> str:
    return f"{KEY_PREFIX}:{connection_public_id}:{ticket_id}:"


def parse_key(key: str) -> tuple[str, int] | None:
    """(connection public id, ticket id) of a contact opened by a Gorgias ticket."""
    parts = (key or "").split(":")
    if len(parts) != 4 or parts[0] != KEY_PREFIX or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def _time(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def customer_message(payload: dict[str, Any]) -> TicketMessage:
    """The customer message a delivery is about: the one named (message-created) or the
    newest customer message of a new ticket. Raises NotACustomerMessage otherwise,
    KeyError/ValueError when the payload is not shaped as Gorgias documents it."""
    ticket = payload.get("ticket") or {}
    message = payload.get("message")
    if message is None:
        if not ticket:
            raise ValueError("neither a ticket nor a message")
        candidates = [
            m for m in ticket.get("messages") or [] if m.get("public") and not m.get("from_agent")
        ]
        if not candidates:
            raise NotACustomerMessage("The ticket has no customer message yet")
        message = candidates[-1]
    if message.get("from_agent"):
        raise NotACustomerMessage("An agent's message")
    if not message.get("public", True):
        raise NotACustomerMessage("An internal note")
    sender = message.get("sender") or {}
    customer = ticket.get("customer") or {}
    source = message.get("source") or {}
    email = (
        sender.get("email") or customer.get("email") or (source.get("from") or {}).get("address")
    )
    if not email:
        raise ValueError("the customer message names no email address")
    to = source.get("to") or [{}]
    name = sender.get("name") or " ".join(
        p for p in (sender.get("firstname"), sender.get("lastname")) if p
    )
    return TicketMessage(
        ticket_id=int(message.get("ticket_id") or ticket["id"]),
        message_id=int(message["id"]),
        channel=str(message.get("channel") or ticket.get("channel") or "email"),
        customer_email=str(email).lower(),
        customer_name=name or customer.get("name") or "",
        body=(message.get("stripped_text") or message.get("body_text") or "").strip(),
        subject=str(message.get("subject") or ticket.get("subject") or ""),
        sent_at=_time(message.get("sent_datetime") or message.get("created_datetime")),
        customer_id=sender.get("id") or customer.get("id"),
        support_address=str((to[0] or {}).get("address") or ""),
        raw=message,
    )


def reply_message(
    context: dict[str, Any], *, body: str, agent_email: str, external_id: str
) -> dict[str, Any]:
    """Our reply as a new outgoing TicketMessage: sent by the API user, to the
    ticket's customer, on the ticket's channel. Without ``sent_datetime``
    Gorgias sends it to the customer itself. ``external_id`` is ours, so a
    retry can find a reply that did go through."""
    receiver: dict[str, Any] = (
        {"id": context["customer_id"]}
        if context.get("customer_id")
        else {"email": context.get("customer_email", "")}
    )
    message: dict[str, Any] = {
        "channel": context.get("channel") or "email",
        "via": "api",
        "from_agent": True,
        "public": True,
        "sender": {"email": agent_email},
        "receiver": receiver,
        "body_text": body,
        "body_html": "<br>".join(html.escape(line) for line in body.splitlines()),
        "external_id": external_id,
    }
    if message["channel"] == "email" and context.get("support_address"):
        message["source"] = {
            "type": "email",
            "from": {"address": context["support_address"]},
            "to": [{"address": context.get("customer_email", "")}],
        }
    return message
