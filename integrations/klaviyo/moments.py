"""Desk moments that trigger the merchant's Klaviyo flows.

Each moment is read off a row the desk writes anyway, so no desk action
knows about Klaviyo: the audit rows of a resolution (``contact.resolve``) and
of an executed refund, return label or replacement (``proposal.execute``),
and a carrier scan reporting a delivery exception. Only tenants with an
active Klaviyo connection get the event; it is sent by a task after commit
(a rolled-back action sends nothing), keyed by a ``unique_id`` derived from
the row, so a task run twice records one event in Klaviyo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from integrations.connected import tenants_with
from integrations.models import TrackingEvent, TrackingStatus
from tenants.models import AuditEvent

DELIVERY_EXCEPTION = "Delivery Exception Detected"
REFUND_ISSUED = "Refund Issued"
RETURN_LABEL_CREATED = "Return Label Created"
REPLACEMENT_SENT = "Replacement Sent"
CONTACT_RESOLVED = "Support Contact Resolved"

PROPOSAL_METRICS = {
    "refund": REFUND_ISSUED,
    "return_label": RETURN_LABEL_CREATED,
    "replacement": REPLACEMENT_SENT,
}


@dataclass(frozen=True)
class Moment:
    metric: str
    email: str
    unique_id: str
    time: str
    properties: dict[str, Any] = field(default_factory=dict)
    value: float | None = None


def _connected(tenant_id: int) -> bool:
    return tenant_id in tenants_with("klaviyo")


def _send_on_commit(source: str, pk: int) -> None:
    from integrations.klaviyo.tasks import send_moment

    transaction.on_commit(partial(send_moment.delay, source=source, pk=pk))


@receiver(post_save, sender=AuditEvent, dispatch_uid="klaviyo.audit-moments")
def _audited(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    if not created or instance.verb not in ("contact.resolve", "proposal.execute"):
        return
    if _connected(instance.tenant_id):
        _send_on_commit("audit", instance.pk)


@receiver(post_save, sender=TrackingEvent, dispatch_uid="klaviyo.delivery-exception")
def _scanned(sender, instance: TrackingEvent, created: bool, **kwargs) -> None:
    if not created or instance.status != TrackingStatus.EXCEPTION:
        return
    tenant_id = instance.shipment.tenant_id
    if _connected(tenant_id):
        _send_on_commit("scan", instance.pk)


def moment_for(source: str, pk: int) -> tuple[int, Moment] | None:
    """(tenant id, the moment) a kept row stands for; None when it is no moment
    (a reply-only proposal) or names nobody we could reach by email."""
    if source == "scan":
        return _delivery_exception(pk)
    return _audited_moment(pk)


def _delivery_exception(pk: int) -> tuple[int, Moment] | None:
    scan = TrackingEvent.objects.select_related("shipment__order").filter(pk=pk).first()
    if scan is None or scan.shipment.order is None or not scan.shipment.order.email:
        return None
    shipment, order = scan.shipment, scan.shipment.order
    return shipment.tenant_id, Moment(
        DELIVERY_EXCEPTION,
        order.email,
        f"desk-scan-{scan.pk}",
        scan.occurred_at.isoformat(),
        {
            "order_number": order.number,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "description": scan.description,
            "substatus": scan.substatus,
            "city": scan.city,
            "country": scan.country,
        },
    )


def _audited_moment(pk: int) -> tuple[int, Moment] | None:
    from desk.models import Contact, Proposal

    row = AuditEvent.objects.filter(pk=pk).first()
    if row is None:
        return None
    unique_id, at = f"desk-audit-{row.pk}", row.created_at.isoformat()
    if row.verb == "contact.resolve":
        contact = (
            Contact.objects.select_related("order")
            .filter(tenant_id=row.tenant_id, public_id=row.object_id)
            .first()
        )
        if contact is None or not contact.customer_email:
            return None
        return row.tenant_id, Moment(
            CONTACT_RESOLVED,
            contact.customer_email,
            unique_id,
            at,
            {
                "contact_id": str(contact.public_id),
                "resolution": contact.resolution,
                "intent": contact.intent,
                "order_number": contact.order.number if contact.order else "",
            },
        )
    proposal = (
        Proposal.objects.select_related("contact__order")
        .filter(tenant_id=row.tenant_id, public_id=row.object_id)
        .first()
    )
    if proposal is None or proposal.kind not in PROPOSAL_METRICS:
        return None
    contact = proposal.contact
    if not contact.customer_email:
        return None
    properties: dict[str, Any] = {
        "contact_id": str(contact.public_id),
        "order_number": contact.order.number if contact.order else "",
    }
    if proposal.amount is not None:
        properties.update(amount=str(proposal.amount), currency=proposal.currency)
    for key in ("tracking_number", "carrier", "label_url", "name", "external_id"):
        if isinstance(row.data, dict) and row.data.get(key):
            properties[key] = row.data[key]
    return row.tenant_id, Moment(
        PROPOSAL_METRICS[proposal.kind],
        contact.customer_email,
        unique_id,
        at,
        properties,
        value=float(proposal.amount) if proposal.amount is not None else None,
    )
