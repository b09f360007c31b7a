"""The Gorgias ticket follows the desk's contact: resolved there, closed here.

Hooked on the audit row every resolution writes (``contact.resolve``), so the
desk's resolution paths (the agent, a specialist's decision, an executed
proposal) need no knowledge of Gorgias.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from integrations.connected import tenants_with
from integrations.gorgias.client import GorgiasClient, GorgiasError
from integrations.gorgias.mapping import parse_key
from integrations.messaging.models import OutboundMessage
from tenants.models import AuditEvent

CLOSED = "closed"


@dataclass(frozen=True)
class Outcome:
    result: str
    retry_in: float | None = None


@receiver(post_save, sender=AuditEvent, dispatch_uid="gorgias.contact-resolved")
def _contact_resolved(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if not (created and instance.verb == "contact.resolve" and instance.object_type == "Contact"):
        return
    if instance.tenant_id not in tenants_with("gorgias"):
        return
    from desk.models import Contact

    row = (
        Contact.objects.filter(tenant_id=instance.tenant_id, public_id=instance.object_id)
        .values_list("pk", "idempotency_key")
        .first()
    )
    if row is None or parse_key(row[1]) is None:
        return
    from integrations.gorgias.tasks import close_ticket

    transaction.on_commit(partial(close_ticket.delay, contact_id=row[0]))


def _pending_replies(tenant_id: int, contact_id: int) -> bool:
    return OutboundMessage.objects.filter(
        tenant_id=tenant_id,
        context__contact_id=contact_id,
        state__in=[OutboundMessage.State.QUEUED, OutboundMessage.State.SENDING],
    ).exists()


def close(contact_id: int, *, wait_for_replies: bool = True) -> Outcome:
    from desk.models import Contact
    from integrations.gorgias.inbound import note_on_contact, ticket_of
    from integrations.gorgias.tasks import REPLY_WAIT_SECONDS

    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None or contact.status != Contact.Status.RESOLVED:
        return Outcome("not resolved")
    found = ticket_of(contact)
    if found is None:
        return Outcome("no ticket")
    connection, context = found
    if not connection.is_active:
        return Outcome("connection inactive")
    if wait_for_replies and _pending_replies(contact.tenant_id, contact_id):
        return Outcome("waiting", retry_in=REPLY_WAIT_SECONDS)
    ticket_id = int(context["ticket_id"])
    try:
        GorgiasClient.for_credentials(connection.credentials).set_status(ticket_id, CLOSED)
    except GorgiasError as exc:
        if not exc.permanent:
            return Outcome("retrying", retry_in=max(exc.retry_in, 30))
        note_on_contact(
            contact_id,
            f"Gorgias did not close ticket {ticket_id}: {exc.message}",
            {"ticket_id": ticket_id, "status": exc.status, "response": exc.response},
        )
        return Outcome("refused")
    return Outcome(CLOSED)
