"""Writes to the usage ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import Contract, UsageRecord
from tenants.models import Tenant


class NoContract(Exception):
    """The tenant has no contract in force; resolutions cannot be priced."""


def contract_in_force(tenant: Tenant, at: datetime) -> Contract:
    day = timezone.localdate(at)
    contract = (
        Contract.objects.filter(tenant=tenant, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .order_by("-starts_on")
        .first()
    )
    if contract is None:
        raise NoContract(f"{tenant.slug} has no contract in force on {day}")
    return contract


def record_usage(
    tenant: Tenant,
    contact_ref: uuid.UUID,
    *,
    by_ai: bool,
    occurred_at: datetime,
    resolution_number: int = 1,
) -> UsageRecord | None:
    """Write the one usage record of a resolution, priced by the contract in force.

    Idempotent: the same (contact, resolution number) twice writes one row and
    returns None the second time. Call inside the resolving transaction."""
    contract = contract_in_force(tenant, occurred_at)
    kind = UsageRecord.Kind.AI_RESOLUTION if by_ai else UsageRecord.Kind.HUMAN_RESOLUTION
    price = contract.ai_resolution_price if by_ai else contract.human_resolution_price
    try:
        with transaction.atomic():
            return UsageRecord.objects.create(
                tenant=tenant,
                contract=contract,
                contact_ref=contact_ref,
                resolution_number=resolution_number,
                kind=kind,
                unit_price=price,
                currency=contract.currency,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        return None
