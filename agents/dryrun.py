"""Run the real agent on a contact and undo everything it wrote.

Evaluation scenarios and the onboarding simulator both need to know what the
agent *would* do without leaving a trace: the contact, its proposal, the
usage record, the queued replies and every task enqueued on commit. The whole
run happens in one transaction (a savepoint when called inside another) that
is rolled back, which also drops the on-commit callbacks registered inside it,
so nothing is sent, executed or billed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from desk import actions as desk_actions
from desk.models import Contact, Proposal
from integrations.actions import record_tracking_event
from integrations.models import Customer, Order, OrderLine, Refund, Shipment
from tenants.models import Tenant

T = TypeVar("T")


class _Rollback(Exception):
    pass


def run_agent_rolled_back(
    build: Callable[[], Contact], read: Callable[[Contact], T], *, execute: bool
) -> T:
    """Build a contact, let the agent handle it as a worker would, read the outcome, roll back.

    ``execute`` also runs the executors of proposals the guardrails approved. Only
    throwaway merchants without live connections may execute: an executor talks
    to the store, and a store does not take part in our rollback."""
    from agents.tasks import handle_contact

    outcome: list[T] = []
    try:
        with transaction.atomic():
            contact = build()
            handle_contact.run(contact_id=contact.pk)
            if execute:
                for proposal in Proposal.objects.filter(
                    contact=contact, status=Proposal.Status.APPROVED
                ):
                    desk_actions.execute_proposal(proposal.pk)
            contact.refresh_from_db()
            outcome.append(read(contact))
            raise _Rollback
    except _Rollback:
        pass
    return outcome[0]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def stage_order(tenant: Tenant, customer: Customer, spec: dict[str, Any], n: int) -> Order:
    """An order (lines, optionally a prior refund) described by a scenario-style ``spec``:
    ``total``, ``lines``, ``number``, ``placed_days_ago``, ``fulfillment_status``, ``cancelled``,
    ``refunded``, ``currency``, ``note``, ``tags``, countries. See docs/agent-eval.md."""
    now = timezone.now()
    lines = spec.get("lines") or [{"sku": "SKU-1", "title": "Item", "unit_price": spec["total"]}]
    subtotal = sum(_money(li["unit_price"]) * int(li.get("quantity", 1)) for li in lines)
    raw: dict[str, Any] = {}
    if spec.get("note"):
        raw["note"] = spec["note"]
    if spec.get("tags"):
        raw["tags"] = ", ".join(spec["tags"])
    if spec.get("billing_country"):
        raw["billing_address"] = {"country_code": spec["billing_country"]}
    order = Order.objects.create(
        tenant=tenant,
        customer=customer,
        number=spec.get("number") or str(1000 + n),
        email=customer.email,
        currency=spec.get("currency") or tenant.currency,
        subtotal=subtotal,
        total=_money(spec.get("total", subtotal)),
        placed_at=now - timedelta(days=spec.get("placed_days_ago", 5)),
        fulfillment_status=spec.get("fulfillment_status", "fulfilled"),
        shipping_address={"country_code": spec.get("shipping_country", "US")},
        cancelled_at=now if spec.get("cancelled") else None,
        raw=raw,
    )
    for li in lines:
        OrderLine.objects.create(
            order=order,
            sku=li["sku"],
            title=li.get("title", li["sku"]),
            product_type=li.get("product_type", ""),
            quantity=int(li.get("quantity", 1)),
            unit_price=_money(li["unit_price"]),
            is_final_sale=bool(li.get("final_sale")),
        )
    if spec.get("refunded"):
        Refund.objects.create(
            tenant=tenant,
            order=order,
            amount=_money(spec["refunded"]),
            currency=order.currency,
            idempotency_key=f"eval-prior-{order.pk}",
        )
    return order


def stage_shipment(order: Order, spec: dict[str, Any], n: int) -> None:
    """A shipment with its scans up to ``status``, the last one ``days_since_last_scan`` ago."""
    now = timezone.now()
    status = spec["status"]
    last = now - timedelta(days=spec.get("days_since_last_scan", 1), hours=1)
    shipment = Shipment.objects.create(
        tenant=order.tenant,
        order=order,
        carrier=spec.get("carrier", "ups"),
        tracking_number=spec.get("tracking_number") or f"EV{uuid.uuid4().hex[:14].upper()}",
        estimated_delivery=(now + timedelta(days=spec["eta_days"])).date()
        if "eta_days" in spec
        else None,
    )
    scans = [("info_received", "Shipping label created", last - timedelta(days=2))]
    if status not in ("pending", "info_received"):
        scans.append(("in_transit", "Picked up by carrier", last - timedelta(days=1)))
    scans.append((status, spec.get("description") or status.replace("_", " ").capitalize(), last))
    for i, (st, text, at) in enumerate(scans):
        record_tracking_event(
            shipment,
            occurred_at=at,
            status=st,
            description=text,
            carrier_code=f"E{i}",
            city=spec.get("city", "Springfield"),
            country="US",
        )
