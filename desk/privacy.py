"""A customer's personal data: export it, or erase it on request.

Erasure anonymises in place instead of deleting, so the ledger, the audit log
and the desk's figures stay whole: what remains says *that* a contact
happened, never *who* it was."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from desk.models import Contact, CsatResponse, Message, Proposal
from integrations.models import Customer, Order, WebhookEvent
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant

ERASED = "[erased]"


def export_customer(tenant: Tenant, email: str) -> dict[str, Any]:
    """Everything the desk holds about ``email`` at ``tenant``, as JSON-ready data."""
    contacts = Contact.objects.filter(tenant=tenant, customer_email__iexact=email).prefetch_related(
        "messages"
    )
    customer = Customer.objects.filter(tenant=tenant, email__iexact=email).first()
    return {
        "tenant": tenant.slug,
        "email": email,
        "customer": None
        if customer is None
        else {"name": customer.name, "phone": customer.phone, "is_vip": customer.is_vip},
        "orders": [
            {
                "number": o.number,
                "placed_at": o.placed_at.isoformat(),
                "total": str(o.total),
                "currency": o.currency,
                "shipping_address": o.shipping_address,
            }
            for o in Order.objects.filter(tenant=tenant, email__iexact=email)
        ],
        "contacts": [
            {
                "id": str(c.public_id),
                "created_at": c.created_at.isoformat(),
                "subject": c.subject,
                "status": c.status,
                "messages": [
                    {"direction": m.direction, "at": m.created_at.isoformat(), "body": m.body}
                    for m in c.messages.all()
                    if m.direction != Message.Direction.INTERNAL
                ],
            }
            for c in contacts
        ],
    }


def _placeholder(tenant: Tenant, email: str) -> tuple[str, str]:
    """The same customer always gets the same stand-in, so counts of distinct
    customers survive erasure; returns (token, placeholder address)."""
    token = hashlib.sha256(f"{tenant.pk}:{email.strip().lower()}".encode()).hexdigest()[:16]
    return token, f"erased-{token}@invalid"


def _anonymise_contacts(contacts: QuerySet[Contact], placeholder: str) -> dict[str, int]:
    """Strip the customer out of ``contacts``: who wrote, what they wrote and
    what we drafted back. Kinds, amounts, statuses and dates stay for the books."""
    counts = {
        "messages": Message.objects.filter(contact__in=contacts).update(body=ERASED, raw={}),
        "proposals": Proposal.objects.filter(contact__in=contacts).update(
            reply_draft=ERASED, evidence={}
        ),
        "csat_comments": CsatResponse.objects.filter(contact__in=contacts)
        .exclude(comment="")
        .update(comment=ERASED),
    }
    # Last, because the queryset may be filtered on the address it overwrites.
    counts["contacts"] = contacts.update(
        customer_email=placeholder,
        customer_name="",
        subject=ERASED,
        order_number_given="",
        search_vector=None,
        personal_data_erased_at=timezone.now(),
    )
    return counts


@transaction.atomic
def erase_contacts(tenant: Tenant, contact_ids: list[int]) -> dict[str, int]:
    """Anonymise these contacts of ``tenant`` only, and nothing else the customer
    has (retention: an old case goes, their newer ones stay). The caller audits."""
    counts: Counter[str] = Counter()
    by_email: dict[str, list[int]] = defaultdict(list)
    for pk, email in Contact.objects.filter(tenant=tenant, pk__in=contact_ids).values_list(
        "pk", "customer_email"
    ):
        by_email[email.strip().lower()].append(pk)
    for email, pks in by_email.items():
        _, placeholder = _placeholder(tenant, email)
        counts.update(_anonymise_contacts(Contact.objects.filter(pk__in=pks), placeholder))
    return dict(counts)


@transaction.atomic
def erase_customer(tenant: Tenant, email: str, actor: Actor) -> dict[str, int]:
    """Anonymise every trace of ``email`` at ``tenant``; returns counts per kind."""
    email = email.strip().lower()
    token, placeholder = _placeholder(tenant, email)
    contacts = Contact.objects.filter(tenant=tenant, customer_email__iexact=email)
    counts = {
        **_anonymise_contacts(contacts, placeholder),
        "orders": Order.objects.filter(tenant=tenant, email__iexact=email).update(
            email=placeholder, shipping_address={}, raw={}
        ),
        "customers": Customer.objects.filter(tenant=tenant, email__iexact=email).update(
            email=placeholder, name="", phone=""
        ),
        "webhooks": WebhookEvent.objects.filter(
            connection__tenant=tenant, body__icontains=email
        ).update(body=ERASED, headers={}),
    }
    # The audit row names the erasure, never the person.
    audit(tenant, actor, "customer.erase", tenant, {"subject": token, **counts})
    return counts
