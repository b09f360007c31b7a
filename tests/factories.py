"""Plain factories. Every tenant-owned object takes ``tenant=`` explicitly."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import Contract
from desk.models import Contact, Message
from integrations.actions import record_tracking_event
from integrations.models import Customer, Order, OrderLine, Shipment, TrackingStatus
from tenants.models import Membership, Tenant, User

_seq = itertools.count(1)


def make_tenant(slug: str | None = None, **fields) -> Tenant:
    n = next(_seq)
    tenant = Tenant.objects.create(
        slug=slug or f"merchant-{n}", name=fields.pop("name", f"Merchant {n}"), **fields
    )
    Contract.objects.create(
        tenant=tenant,
        currency=tenant.currency,
        ai_resolution_price=Decimal("1.40"),
        human_resolution_price=Decimal("5.20"),
        deflection_floor=Decimal("0.700"),
        starts_on=date(2026, 1, 1),
    )
    return tenant


def make_member(tenant: Tenant, role: str, email: str | None = None) -> User:
    user = User.objects.create_user(email or f"user{next(_seq)}@example.com", "test-pass-123")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    return user


def make_customer(tenant: Tenant, email: str | None = None, **fields) -> Customer:
    return Customer.objects.create(
        tenant=tenant, email=email or f"cust{next(_seq)}@example.com", **fields
    )


def make_order(
    tenant: Tenant,
    *,
    total: str = "80.00",
    customer: Customer | None = None,
    number: str | None = None,
    shipment_status: str | None = TrackingStatus.IN_TRANSIT,
) -> Order:
    customer = customer or make_customer(tenant)
    amount = Decimal(total)
    order = Order.objects.create(
        tenant=tenant,
        customer=customer,
        number=number or str(5000 + next(_seq)),
        email=customer.email,
        currency=tenant.currency,
        subtotal=amount,
        total=amount,
        placed_at=timezone.now() - timedelta(days=4),
    )
    OrderLine.objects.create(order=order, sku="SKU-1", title="Test item", unit_price=amount)
    if shipment_status:
        shipment = Shipment.objects.create(
            tenant=tenant, order=order, carrier="ups", tracking_number=f"1Z{next(_seq):016d}"
        )
        record_tracking_event(
            shipment,
            occurred_at=timezone.now() - timedelta(days=1),
            status=shipment_status,
            description=f"Scan: {shipment_status}",
            carrier_code="X1",
            city="Louisville",
            country="US",
        )
    return order


def make_contact(
    tenant: Tenant, *, order: Order | None = None, body: str = "Where is my order?", **fields
) -> Contact:
    contact = Contact.objects.create(
        tenant=tenant,
        order=order,
        customer_email=order.email
        if order
        else fields.pop("customer_email", "someone@example.com"),
        subject=fields.pop("subject", body[:40]),
        **fields,
    )
    Message.objects.create(contact=contact, direction="inbound", author_type="customer", body=body)
    return contact


def log_in(client, user, password: str = "test-pass-123") -> None:
    """Sign in through the real login form, so the session records a fresh authentication."""
    client.logout()
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]


def apply_webhooks() -> list[str]:
    """Apply the webhook events the intake has kept, as its worker would, and
    say what became of each (processed, ignored, failed, skipped)."""
    from integrations import webhooks
    from integrations.models import WebhookEvent

    waiting = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).order_by("pk")
    return [webhooks.process_event(pk) for pk in waiting.values_list("pk", flat=True)]
