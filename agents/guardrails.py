"""Guardrails: deterministic checks between a proposal and its execution.

They are code, never prompt text: whatever a planner (or a customer writing to
it) says, a proposal that fails one of these waits for a human."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from desk.actions import ProposalDraft
from desk.models import Proposal
from integrations.models import Customer, Order
from tenants.models import Tenant

DEFAULT_AUTO_KINDS = [Proposal.Kind.REPLY, Proposal.Kind.REFUND]


def _verdict(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": passed, "detail": detail}


def check(
    tenant: Tenant, draft: ProposalDraft, *, order: Order | None, customer: Customer | None
) -> list[dict[str, Any]]:
    """Every verdict, in order; the proposal may run alone only if all passed."""
    verdicts = []
    allowed = tenant.auto_action_kinds or DEFAULT_AUTO_KINDS
    if draft.kind == Proposal.Kind.NONE:
        verdicts.append(_verdict("action_needed", False, draft.rationale or "Needs a human"))
    else:
        verdicts.append(
            _verdict(
                "kind_allowed",
                draft.kind in allowed,
                f"{draft.kind} may run without a human"
                if draft.kind in allowed
                else f"{draft.kind} is not allowed without a human for {tenant.name}",
            )
        )
    threshold = tenant.confidence_threshold
    verdicts.append(
        _verdict(
            "confidence",
            draft.confidence >= threshold,
            f"Confidence {draft.confidence} vs threshold {threshold}",
        )
    )
    is_vip = bool(customer and customer.is_vip)
    verdicts.append(
        _verdict(
            "not_vip", not is_vip, "VIP customer: a human handles it" if is_vip else "Not a VIP"
        )
    )
    if draft.kind in (Proposal.Kind.REFUND, Proposal.Kind.STORE_CREDIT):
        verdicts.extend(_money_checks(tenant, draft, order))
    return verdicts


def _money_checks(
    tenant: Tenant, draft: ProposalDraft, order: Order | None
) -> list[dict[str, Any]]:
    amount = draft.amount or Decimal("0")
    if order is None:
        return [_verdict("order_known", False, "No order: nothing to refund against")]
    # Re-read the remainder from the store mirror now, not from the draft's evidence.
    remainder = order.refundable_remainder
    limit = tenant.auto_refund_limit
    return [
        _verdict(
            "amount_from_system",
            draft.parameters.get("amount_source") == "order.refundable_remainder"
            and amount == remainder,
            f"Amount {amount} taken from the order's refundable remainder {remainder}",
        ),
        _verdict(
            "within_remainder",
            Decimal("0") < amount <= remainder,
            f"{amount} ≤ refundable remainder {remainder} {order.currency}",
        ),
        _verdict(
            "within_auto_limit",
            amount <= limit,
            f"Refund {amount} {order.currency} is above the auto-refund limit of {limit}"
            if amount > limit
            else f"{amount} ≤ auto-refund limit {limit}",
        ),
        _daily_cap(tenant, amount),
    ]


def _daily_cap(tenant: Tenant, amount: Decimal) -> dict[str, Any]:
    zone = ZoneInfo(tenant.time_zone)
    start = datetime.combine(timezone.now().astimezone(zone).date(), time.min, tzinfo=zone)
    spent = Proposal.objects.filter(
        tenant=tenant,
        kind=Proposal.Kind.REFUND,
        status__in=[Proposal.Status.APPROVED, Proposal.Status.EXECUTED],
        decisions__isnull=True,
        created_at__gte=start,
    ).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    cap = tenant.daily_auto_refund_cap
    return _verdict(
        "daily_cap",
        spent + amount <= cap,
        f"Auto-refunds today {spent} + {amount} vs daily cap {cap}",
    )
