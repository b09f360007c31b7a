"""Replay one past ticket through the agent, as if it arrived now, and undo it.

A ticket export says little about the order behind a ticket, so the order is
staged from what the row gives and plausible defaults for the rest (the
defaults are documented on the simulator page and in the README):

- Each ticket is replayed as if received now; every date in the row moves by
  the same amount, so ages the agent cares about (days since delivery for a
  return window, days since the last scan for a stalled parcel) are kept.
- Order number: the ``order_number`` column, else the first number the
  customer wrote, else a made-up one. An order the merchant's store already
  synced under that number is used as it is.
- Total: ``order_total``, else the sum of priced ``line_items``, else
  DEFAULT_ORDER_TOTAL; a line without a price shares what is left of the total.
- Placed DAYS_PLACED_BEFORE_DELIVERY days before ``delivered_at``, else
  DAYS_PLACED_BEFORE_TICKET days before the ticket.
- Shipment: ``tracking_status`` (``delivered`` when ``delivered_at`` is given,
  else ``in_transit`` with a scan the day before the ticket); none for an
  unfulfilled or cancelled order without tracking facts.
- The customer has no other orders and no history with the merchant (the
  export rarely says), which keeps the estimate on the careful side: a claim
  on a first order is a risk signal that sends it to a human."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from agents import extraction
from agents.dryrun import run_agent_rolled_back, stage_order, stage_shipment
from agents.simulator.tickets import Ticket
from desk import actions as desk_actions
from desk.models import Contact, Proposal
from integrations.access import normalize_order_number
from integrations.models import Customer, Order
from tenants.actor import Actor
from tenants.models import Tenant

DEFAULT_ORDER_TOTAL = Decimal("75.00")
DAYS_PLACED_BEFORE_DELIVERY = 4
DAYS_PLACED_BEFORE_TICKET = 5
ACTOR = Actor.system("simulator")


def replay(tenant: Tenant, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """What the agent would do with ``ticket`` received at ``now``; nothing is kept."""
    return run_agent_rolled_back(
        lambda: stage(tenant, ticket, now), lambda c: outcome(ticket, c), execute=False
    )


def _days(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0) / 86400


def _lines(ticket: Ticket) -> tuple[Decimal, list[dict[str, Any]]]:
    priced = sum(
        (i.unit_price * i.quantity for i in ticket.line_items if i.unit_price is not None),
        Decimal("0"),
    )
    total = ticket.order_total
    if total is None:
        total = priced if priced else DEFAULT_ORDER_TOTAL
    if not ticket.line_items:
        return total, [{"sku": "ITEM", "title": "Item", "unit_price": total}]
    unpriced = sum(i.quantity for i in ticket.line_items if i.unit_price is None)
    share = (max(total - priced, Decimal("0")) / unpriced if unpriced else Decimal("0")).quantize(
        Decimal("0.01")
    )
    lines = [
        {
            "sku": i.sku,
            "title": i.sku,
            "quantity": i.quantity,
            "unit_price": i.unit_price if i.unit_price is not None else share,
        }
        for i in ticket.line_items
    ]
    return total, lines


def _order_number(ticket: Ticket) -> str:
    if ticket.order_number:
        return ticket.order_number
    said = extraction.extract(f"{ticket.subject}\n{ticket.body}").order_numbers
    number = normalize_order_number(said[0]) if said else ""
    return number if 0 < len(number) <= 32 else f"SIM{ticket.row}"


def stage(tenant: Tenant, ticket: Ticket, now: datetime) -> Contact:
    """The customer, order, shipment and contact of one ticket (inside the dry run)."""
    shift = now - ticket.created_at if ticket.created_at else timedelta(0)
    email = ticket.customer_email or f"ticket-row-{ticket.row}@customer.invalid"
    number = _order_number(ticket)
    delivered = min(ticket.delivered_at + shift, now) if ticket.delivered_at else None
    customer = Customer.objects.filter(tenant=tenant, email__iexact=email).first()
    if customer is None:
        customer = Customer.objects.create(tenant=tenant, email=email)
    if not Order.objects.filter(tenant=tenant, number__iexact=number).exists():
        total, lines = _lines(ticket)
        placed = (
            delivered - timedelta(days=DAYS_PLACED_BEFORE_DELIVERY)
            if delivered
            else now - timedelta(days=DAYS_PLACED_BEFORE_TICKET)
        )
        order = stage_order(
            tenant,
            customer,
            {
                "number": number,
                "total": total,
                "lines": lines,
                "placed_days_ago": _days(now - placed),
                "fulfillment_status": ticket.order_status or "fulfilled",
                "cancelled": ticket.order_status == "cancelled",
                "currency": ticket.currency,
            },
            ticket.row,
        )
        shipped = ticket.tracking_status or delivered is not None
        if shipped or ticket.order_status not in ("unfulfilled", "cancelled"):
            status = ticket.tracking_status or ("delivered" if delivered else "in_transit")
            last_scan = delivered if delivered and status == "delivered" else now
            stage_shipment(
                order,
                {"status": status, "days_since_last_scan": max(_days(now - last_scan), 1)},
                ticket.row,
            )
    return desk_actions.create_contact(
        tenant,
        actor=ACTOR,
        channel=ticket.channel,
        customer_email=email,
        order_number=ticket.order_number,
        subject=ticket.subject,
        body=ticket.body,
        raw={"simulated_ticket": ticket.ticket_id},
    )


def outcome(ticket: Ticket, contact: Contact) -> dict[str, Any]:
    """The agent's verdict on one ticket, in the shape the report tallies."""
    proposal = contact.current_proposal
    failed = [g for g in (proposal.guardrails if proposal else []) if not g["passed"]]
    by_ai = proposal is not None and proposal.status in (
        Proposal.Status.APPROVED,
        Proposal.Status.EXECUTED,
    )
    return {
        "row": ticket.row,
        "ticket": ticket.ticket_id,
        "intent": contact.intent or "other",
        "action": proposal.kind if proposal else Proposal.Kind.NONE,
        "amount": f"{proposal.amount:.2f}" if proposal and proposal.amount is not None else "",
        "by": "ai" if by_ai else "human",
        "reason": "" if by_ai else (failed[0]["name"] if failed else "no_proposal"),
        "detail": (failed[0]["detail"] if failed else "")[:200],
    }
