"""The agent's tools: read-only views of system data, shaped as JSON evidence.

Everything returned here comes from systems (the store mirror, carriers, our
own history), never from the customer's text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from desk.models import Contact
from integrations.models import Customer, Order, Refund, Shipment


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def get_order(order: Order) -> dict[str, Any]:
    lines = list(order.lines.all())
    refunded = order.refunded_total
    return {
        "number": order.number,
        "placed_at": order.placed_at.isoformat(),
        "currency": order.currency,
        "total": _money(order.total),
        "refunded": _money(refunded),
        "refundable_remainder": _money(max(order.total - refunded, Decimal("0"))),
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "lines": [
            {
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "is_final_sale": line.is_final_sale,
            }
            for line in lines
        ],
    }


def get_tracking(order: Order) -> list[dict[str, Any]]:
    shipments = (
        Shipment.objects.filter(order=order).prefetch_related("events").order_by("created_at")
    )
    return [
        {
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "status": s.status,
            "status_label": s.get_status_display(),
            "substatus": s.substatus,
            "estimated_delivery": s.estimated_delivery.isoformat()
            if s.estimated_delivery
            else None,
            "last_event_at": s.last_event_at.isoformat() if s.last_event_at else None,
            "events": [
                {
                    "occurred_at": e.occurred_at.isoformat(),
                    "status": e.status,
                    "description": e.description,
                    "location": e.location,
                }
                for e in s.events.all()[:20]
            ],
        }
        for s in shipments
    ]


def get_customer_history(contact: Contact, customer: Customer | None) -> dict[str, Any]:
    since = timezone.now() - timezone.timedelta(days=90)
    email = contact.customer_email
    contacts = Contact.objects.filter(tenant=contact.tenant, customer_email__iexact=email).exclude(
        pk=contact.pk
    )
    refunds = Refund.objects.filter(tenant=contact.tenant, order__email__iexact=email)
    return {
        "email": email,
        "name": (customer.name if customer else contact.customer_name) or "",
        "is_vip": bool(customer and customer.is_vip),
        "contacts_90d": contacts.filter(created_at__gte=since).count(),
        "refunds_90d": refunds.filter(created_at__gte=since).count(),
        "refunded_90d": _money(
            refunds.filter(created_at__gte=since).aggregate(s=Sum("amount"))["s"]
        )
        or "0.00",
    }
