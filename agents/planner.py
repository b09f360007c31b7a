"""The embedded planner: a deterministic plan for every intent from system data.

It needs no LLM and is the default; an LLM planner proposes through the same
ProposalDraft and the same guardrails."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from desk.actions import ProposalDraft
from desk.models import Intent, Proposal
from integrations.models import TrackingStatus

NAME = "embedded"

_STATUS_REPLIES = {
    TrackingStatus.PENDING: "your order #{number} has not been handed to the carrier yet; "
    "we will send you the tracking link as soon as it ships.",
    TrackingStatus.INFO_RECEIVED: "your order #{number} is packed and the label is created; "
    "{carrier} will pick it up shortly (tracking {tracking}).",
    TrackingStatus.IN_TRANSIT: "your order #{number} is on its way with {carrier} "
    "(tracking {tracking}). Latest scan: {last}.{eta}",
    TrackingStatus.OUT_FOR_DELIVERY: "good news: your order #{number} is out for delivery today "
    "with {carrier} (tracking {tracking}).",
    TrackingStatus.AVAILABLE_FOR_PICKUP: "your order #{number} is waiting for you at the pickup "
    "point: {last}. Bring an ID and tracking number {tracking}.",
    TrackingStatus.DELIVERED: "{carrier} shows your order #{number} as delivered: {last}. "
    "If you cannot find it, reply and we will help.",
}
# Statuses a human should look at before we tell the customer anything.
_NEEDS_HUMAN = {TrackingStatus.EXCEPTION, TrackingStatus.FAILED_ATTEMPT, TrackingStatus.EXPIRED}


def _greeting(name: str) -> str:
    first = (name or "").split(" ")[0]
    return f"Hi {first}," if first else "Hi,"


def plan(
    *, intent: str, confidence: float, evidence: dict[str, Any], customer_name: str
) -> ProposalDraft:
    order = evidence.get("order")
    hello = _greeting(customer_name)
    conf = Decimal(str(confidence)).quantize(Decimal("0.001"))
    if order is None:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} thanks for reaching out. Could you send us your order number "
            "so we can look into this?",
            confidence=Decimal("0.2"),
            rationale="No order could be matched from the order number or the customer's email.",
            evidence=evidence,
        )
    if intent in (Intent.WISMO, Intent.DELIVERY_EXCEPTION):
        return _plan_tracking(intent, conf, evidence, hello)
    if intent == Intent.REFUND_REQUEST:
        remainder = Decimal(order["refundable_remainder"])
        if remainder <= 0:
            return ProposalDraft(
                kind=Proposal.Kind.NONE,
                reply_draft=f"{hello} order #{order['number']} has already been refunded in full.",
                confidence=conf,
                rationale="Nothing left to refund on this order.",
                evidence=evidence,
            )
        return ProposalDraft(
            kind=Proposal.Kind.REFUND,
            amount=remainder,
            currency=order["currency"],
            parameters={"amount_source": "order.refundable_remainder", "order": order["number"]},
            reply_draft=f"{hello} we have refunded {remainder} {order['currency']} for order "
            f"#{order['number']} to your original payment method. It usually shows within "
            "5-10 business days.",
            confidence=conf,
            rationale=f"Refund request on order #{order['number']}; the refundable remainder "
            f"is {remainder} {order['currency']} per the store.",
            evidence=evidence,
        )
    label = Intent(intent).label if intent in Intent.values else intent
    return ProposalDraft(
        kind=Proposal.Kind.NONE,
        reply_draft=f"{hello} thanks for your message about order #{order['number']}. "
        "A specialist is looking into it and will get back to you shortly.",
        confidence=conf,
        rationale=f"{label}: no automatic action for this intent yet.",
        evidence=evidence,
    )


def _plan_tracking(
    intent: str, conf: Decimal, evidence: dict[str, Any], hello: str
) -> ProposalDraft:
    order = evidence["order"]
    shipments = evidence.get("shipments") or []
    if not shipments:
        status = TrackingStatus.PENDING
        shipment: dict[str, Any] = {"carrier": "", "tracking_number": "", "events": []}
    else:
        shipment = shipments[-1]
        status = shipment["status"]
    events = shipment.get("events") or []
    last = events[0] if events else None
    last_text = (
        f"{last['description']}" + (f" ({last['location']})" if last.get("location") else "")
        if last
        else "label created"
    )
    eta = (
        f" Estimated delivery: {shipment['estimated_delivery']}."
        if shipment.get("estimated_delivery")
        else ""
    )
    if status in _NEEDS_HUMAN or intent == Intent.DELIVERY_EXCEPTION:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} we are sorry about the trouble with order #{order['number']}. "
            f"We are checking with {shipment['carrier'] or 'the carrier'} and will update you today.",
            confidence=conf,
            rationale=f"Shipment is {status}: a delivery problem needs a specialist's call "
            "(reship, refund or carrier claim).",
            evidence=evidence,
        )
    text = _STATUS_REPLIES[status].format(
        number=order["number"],
        carrier=shipment["carrier"].upper() or "the carrier",
        tracking=shipment["tracking_number"],
        last=last_text,
        eta=eta,
    )
    return ProposalDraft(
        kind=Proposal.Kind.REPLY,
        reply_draft=f"{hello} {text}",
        confidence=conf,
        rationale=f"Tracking question; latest carrier status is {status}.",
        evidence=evidence,
    )
