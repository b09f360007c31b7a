"""Tenant-scoped lookups for the desk. Outside the tenant → 404; role too low → 403."""

from __future__ import annotations

import uuid

from django.http import Http404

from desk.models import Contact, Proposal
from tenants.access import get_membership, require
from tenants.models import Membership, User


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise Http404("No such object") from exc


def get_contact_for_member(
    user: User, public_id: str | uuid.UUID, permission: str
) -> tuple[Contact, Membership]:
    """A contact the user may act on with ``permission``."""
    contact = (
        Contact.objects.select_related("tenant", "order", "customer", "assigned_to")
        .filter(public_id=_uuid(public_id))
        .first()
    )
    if contact is None:
        raise Http404("No such contact")
    membership = get_membership(user, contact.tenant)
    require(membership, permission)
    return contact, membership


def get_proposal_for_member(user: User, contact: Contact, public_id: str | uuid.UUID) -> Proposal:
    """A proposal of ``contact`` (already access-checked)."""
    proposal = contact.proposals.filter(public_id=_uuid(public_id)).first()
    if proposal is None:
        raise Http404("No such proposal")
    return proposal


def get_macro_for_tenant(tenant, public_id: str | uuid.UUID):
    from desk.models import Macro

    macro = Macro.objects.filter(tenant=tenant, public_id=_uuid(public_id)).first()
    if macro is None:
        raise Http404("No such macro")
    return macro


def get_qa_review_for_tenant(tenant, public_id: str | uuid.UUID):
    from desk.models import QaReview

    review = QaReview.objects.filter(tenant=tenant, public_id=_uuid(public_id)).first()
    if review is None:
        raise Http404("No such review")
    return review
