"""Tenant-scoped lookups of mirrored commerce data."""

from __future__ import annotations

import re

from integrations.models import Customer, Order
from tenants.models import Tenant


def normalize_order_number(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z-]", "", text or "").upper()


def find_order(tenant: Tenant, number: str) -> Order | None:
    """An order of ``tenant`` by the number the customer typed ('#1042', '1042')."""
    normalized = normalize_order_number(number)
    if not normalized:
        return None
    return Order.objects.filter(tenant=tenant, number__iexact=normalized).first()


def latest_order_for_email(tenant: Tenant, email: str) -> Order | None:
    if not email:
        return None
    return Order.objects.filter(tenant=tenant, email__iexact=email).order_by("-placed_at").first()


def find_customer(tenant: Tenant, email: str) -> Customer | None:
    if not email:
        return None
    return Customer.objects.filter(tenant=tenant, email__iexact=email).first()
