"""The embedded planner: a deterministic plan for every intent from system data.

It needs no LLM and is the default; an LLM planner proposes through the same
ProposalDraft and the same guardrails."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from desk.actions import ProposalDraft
from desk.models import Intent, Proposal
from integrations.models import TrackingStatus

NAME = "embedded"

# Where a money-moving amount came from; guardrails re-derive it from the same source.
AMOUNT_FROM_REMAINDER = "order.refundable_remainder"
AMOUNT_FROM_POLICY = "policy"

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
    TrackingStatus.FAILED_ATTEMPT: "{carrier} tried to deliver order #{number} but could not: "
    "{last}. They will try again on the next business day; you can also arrange a redelivery "
    "with tracking number {tracking}.",
}
# Statuses a human should look at before we tell the customer anything.
_NEEDS_HUMAN = {TrackingStatus.EXCEPTION, TrackingStatus.EXPIRED}


def _greeting(name: str) -> str:
    first = (name or "").split(" ")[0]
    return f"Hi {first}," if first else "Hi,"


# Intents whose answer depends on the returns policy.
RETURN_INTENTS = {Intent.RETURN_REQUEST, Intent.REPLACEMENT_REQUEST}
# Reasons the merchant caused: a damaged or wrong item goes through the policy whatever
# words the customer used to ask (refund, replacement, "what now?").
MERCHANT_FAULT_REASONS = {"damaged_in_transit", "wrong_item", "defective", "not_as_described"}
# A scan older than this on a parcel still in transit means it may be lost.
STALLED_AFTER = timedelta(days=7)


def uses_policy(intent: str, reason: str | None) -> bool:
    """Whether the contact is a return, replacement, or a damaged / wrong item."""
    if intent in RETURN_INTENTS:
        return True
    return reason in MERCHANT_FAULT_REASONS and intent != Intent.WISMO


def plan(
    *, intent: str, confidence: float, evidence: dict[str, Any], customer_name: str
) -> ProposalDraft:
    """One proposal from the intent and the evidence. Deterministic: the same
    evidence always gives the same draft."""
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
            asks_customer=True,
        )
    if evidence.get("returns"):
        return _plan_return(conf, evidence, hello)
    if intent in (Intent.WISMO, Intent.DELIVERY_EXCEPTION):
        return _plan_tracking(intent, conf, evidence, hello)
    if intent == Intent.REFUND_REQUEST:
        return _plan_refund(conf, evidence, hello)
    if intent == Intent.CANCEL_ORDER:
        return _plan_cancel(conf, evidence, hello)
    if intent == Intent.CHANGE_ADDRESS:
        return _plan_address(conf, evidence, hello)
    label = Intent(intent).label if intent in Intent.values else intent
    return ProposalDraft(
        kind=Proposal.Kind.NONE,
        reply_draft=f"{hello} thanks for your message about order #{order['number']}. "
        "A specialist is looking into it and will get back to you shortly.",
        confidence=conf,
        rationale=f"{label}: no automatic action for this intent.",
        evidence=evidence,
    )


def _plan_refund(conf: Decimal, evidence: dict[str, Any], hello: str) -> ProposalDraft:
    order = evidence["order"]
    remainder = Decimal(order["refundable_remainder"])
    if remainder <= 0:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} order #{order['number']} has already been refunded in full.",
            confidence=conf,
            rationale="Nothing left to refund on this order.",
            evidence=evidence,
        )
    shipments = evidence.get("shipments") or []
    if shipments and shipments[-1]["status"] != TrackingStatus.DELIVERED:
        # Money back while the goods are still travelling is a cancel or a carrier
        # intercept first: a specialist decides which.
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} order #{order['number']} is still on its way; a specialist "
            "will see whether it can be stopped and refunded.",
            confidence=conf,
            rationale=f"Refund asked while the parcel is {shipments[-1]['status']}: cancel or "
            "intercept first.",
            evidence=evidence,
        )
    return ProposalDraft(
        kind=Proposal.Kind.REFUND,
        amount=remainder,
        currency=order["currency"],
        parameters={"amount_source": AMOUNT_FROM_REMAINDER, "order": order["number"]},
        reply_draft=f"{hello} we have refunded {remainder} {order['currency']} for order "
        f"#{order['number']} to your original payment method. It usually shows within "
        "5-10 business days.",
        confidence=conf,
        rationale=f"Refund request on order #{order['number']}; the refundable remainder "
        f"is {remainder} {order['currency']} per the store.",
        evidence=evidence,
    )


# Store words for an order that has (partly) left the warehouse.
SHIPPED_FULFILLMENT = {"fulfilled", "partial", "partially_fulfilled", "shipped"}


def _shipped(evidence: dict[str, Any]) -> bool:
    """The store's fulfilment status or any shipment, never what the customer says."""
    status = (evidence["order"].get("fulfillment_status") or "").lower()
    return bool(evidence.get("shipments")) or status in SHIPPED_FULFILLMENT


def _plan_cancel(conf: Decimal, evidence: dict[str, Any], hello: str) -> ProposalDraft:
    order = evidence["order"]
    shipped = _shipped(evidence)
    if order.get("is_cancelled"):
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} order #{order['number']} is already cancelled.",
            confidence=conf,
            rationale="The store shows the order as cancelled already.",
            evidence=evidence,
        )
    if shipped:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} order #{order['number']} has already left our warehouse, so "
            "we cannot cancel it any more; a specialist will help you return it instead.",
            confidence=conf,
            rationale="Cancellation asked after the order shipped: a return, a human's call.",
            evidence=evidence,
        )
    # Stores cancel without paying back: the executor refunds what is left, and the
    # guardrails hold that amount to the remainder, the auto-limit and the daily cap.
    remainder = Decimal(order["refundable_remainder"])
    if remainder <= 0:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} a specialist is looking at order #{order['number']} and "
            "will get back to you shortly.",
            confidence=conf,
            rationale="Cancellation asked on an order already refunded in full: a human checks "
            "why before cancelling.",
            evidence=evidence,
        )
    return ProposalDraft(
        kind=Proposal.Kind.CANCEL_ORDER,
        amount=remainder,
        currency=order["currency"],
        parameters={"order": order["number"], "amount_source": AMOUNT_FROM_REMAINDER},
        reply_draft=f"{hello} we have cancelled order #{order['number']} before it shipped "
        f"and refunded {remainder} {order['currency']} to your original payment method. It "
        "usually shows within 5-10 business days.",
        confidence=conf,
        rationale=f"Order #{order['number']} has not shipped; it can still be cancelled and "
        f"its refundable remainder of {remainder} {order['currency']} paid back.",
        evidence=evidence,
    )


def _plan_address(conf: Decimal, evidence: dict[str, Any], hello: str) -> ProposalDraft:
    order = evidence["order"]
    if _shipped(evidence):
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} order #{order['number']} has already shipped; a specialist "
            "will check with the carrier whether the parcel can be redirected.",
            confidence=conf,
            rationale="Address change after shipping: only the carrier can redirect.",
            evidence=evidence,
        )
    return ProposalDraft(
        kind=Proposal.Kind.ADDRESS_CHANGE,
        parameters={"order": order["number"]},
        reply_draft=f"{hello} we have updated the delivery address of order #{order['number']}.",
        confidence=conf,
        rationale=f"Order #{order['number']} has not shipped; the address can still change.",
        evidence=evidence,
    )


# Policy outcome → what the agent proposes.
_RETURN_KINDS = {
    "refund": Proposal.Kind.RETURN_LABEL,
    "store_credit": Proposal.Kind.STORE_CREDIT,
    "exchange": Proposal.Kind.REPLACEMENT,
    "replacement": Proposal.Kind.REPLACEMENT,
    "keep_item_refund": Proposal.Kind.REFUND,
}


def _sum(decisions: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(d["amounts"][key]) for d in decisions), Decimal("0"))


def _plan_return(conf: Decimal, evidence: dict[str, Any], hello: str) -> ProposalDraft:
    order = evidence["order"]
    decisions = evidence["returns"]
    number, currency = order["number"], order["currency"]
    outcomes = {d["outcome"] for d in decisions}
    rules = ", ".join(f"{d['sku']}: {d.get('rule_id') or 'none'}" for d in decisions)
    version = decisions[0].get("policy_version")
    parameters = {
        "order": number,
        "policy_version": version,
        "policy_lines": [
            {
                "sku": d["sku"],
                "condition": d.get("condition"),
                "reason": d.get("reason"),
                "outcome": d["outcome"],
                "rule_id": d.get("rule_id"),
            }
            for d in decisions
        ],
    }
    message = " ".join(dict.fromkeys(d.get("message", "") for d in decisions if d.get("message")))
    if len(outcomes) != 1 or next(iter(outcomes)) not in _RETURN_KINDS:
        which = "/".join(sorted(outcomes))
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            parameters=parameters,
            reply_draft=f"{hello} thanks for your message about order #{number}. A specialist "
            "is checking your return against our policy and will get back to you shortly.",
            confidence=conf,
            rationale=f"Returns policy says {which} ({rules}): {message}".strip(),
            evidence=evidence,
        )
    outcome = next(iter(outcomes))
    kind = _RETURN_KINDS[outcome]
    rationale = f"Returns policy v{version} says {outcome} ({rules}). {message}".strip()
    if outcome == "keep_item_refund":
        amount = _sum(decisions, "refund")
        remainder = Decimal(order["refundable_remainder"])
        if amount <= 0 or amount > remainder:
            return ProposalDraft(
                kind=Proposal.Kind.NONE,
                parameters=parameters,
                reply_draft=f"{hello} a specialist is looking at order #{number} and will get "
                "back to you shortly.",
                confidence=conf,
                rationale=f"{rationale} The policy refund {amount} does not fit the refundable "
                f"remainder {remainder}.",
                evidence=evidence,
            )
        return ProposalDraft(
            kind=kind,
            amount=amount,
            currency=currency,
            parameters={**parameters, "amount_source": AMOUNT_FROM_POLICY},
            reply_draft=f"{hello} we are sorry about this. {message} We have refunded "
            f"{amount} {currency} for order #{number} to your original payment method; there "
            "is no need to send the item back.",
            confidence=conf,
            rationale=rationale,
            evidence=evidence,
        )
    if kind == Proposal.Kind.RETURN_LABEL:
        amount = _sum(decisions, "refund")
        reply = (
            f"{hello} your return for order #{number} is approved. We are sending you a "
            f"prepaid return label; once the item is back we refund {amount} {currency}."
        )
    elif kind == Proposal.Kind.STORE_CREDIT:
        amount = _sum(decisions, "store_credit")
        reply = (
            f"{hello} your return for order #{number} is approved. We have added {amount} "
            f"{currency} in store credit to your account and are sending you a prepaid return "
            "label for the item."
        )
    else:
        amount = None
        reply = f"{hello} we are sorry about this. {message} We will ship a replacement for order #{number}."
    return ProposalDraft(
        kind=kind,
        amount=amount,
        currency=currency if amount is not None else "",
        parameters={**parameters, "amount_source": AMOUNT_FROM_POLICY}
        if amount is not None
        else parameters,
        reply_draft=reply,
        confidence=conf,
        rationale=rationale,
        evidence=evidence,
    )


def _plan_tracking(
    intent: str, conf: Decimal, evidence: dict[str, Any], hello: str
) -> ProposalDraft:
    order = evidence["order"]
    shipments = evidence.get("shipments") or []
    if not shipments and order.get("fulfillment_status") == "fulfilled":
        # Shipped without any tracking we know of: telling the customer "not shipped yet"
        # would be false.
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} we are checking the shipping details of order "
            f"#{order['number']} and will update you today.",
            confidence=conf,
            rationale="The store says fulfilled but no shipment or tracking is known.",
            evidence=evidence,
        )
    if not shipments:
        status = TrackingStatus.PENDING
        shipment: dict[str, Any] = {"carrier": "", "tracking_number": "", "events": []}
    else:
        shipment = shipments[-1]
        status = shipment["status"]
    events = shipment.get("events") or []
    last = events[0] if events else None
    last_text = (
        _scan_text(last) + (f" ({last['location']})" if last.get("location") else "")
        if last
        else "label created"
    )
    eta = (
        f" Estimated delivery: {shipment['estimated_delivery']}."
        if shipment.get("estimated_delivery")
        else ""
    )
    claim = evidence.get("claim")
    stalled = _stalled(shipment, status)
    problem = (
        f"Shipment is {status}"
        if status in _NEEDS_HUMAN
        else "The customer says the parcel never arrived"
        if claim == "not_received"
        else "The customer reports damage"
        if claim == "damaged"
        else f"No carrier scan for {STALLED_AFTER.days}+ days while {status}"
        if stalled
        else ""
    )
    if problem:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=f"{hello} we are sorry about the trouble with order #{order['number']}. "
            f"We are checking with {shipment['carrier'] or 'the carrier'} and will update you today.",
            confidence=conf,
            rationale=f"{problem}: a delivery problem needs a specialist's call "
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
        rationale=f"Tracking question ({Intent(intent).label.lower()}); latest carrier status "
        f"is {status}.",
        evidence=evidence,
    )


def _stalled(shipment: dict[str, Any], status: str) -> bool:
    if status not in (TrackingStatus.IN_TRANSIT, TrackingStatus.INFO_RECEIVED):
        return False
    last = shipment.get("last_event_at")
    if not last:
        return False
    return timezone.now() - datetime.fromisoformat(last) > STALLED_AFTER


# Carrier scan text is quoted to the customer; anything that does not read like a scan
# (links, money, instructions planted in a carrier feed) is replaced by the status.
_UNSCAN = re.compile(
    r"https?://|www\.|[$€£]|\d+[.,]\d{2}\b|\b(ignore|instruction|system|assistant|refund|"
    r"approv|credit|voucher|password|click)",
    re.IGNORECASE,
)


def _scan_text(event: dict[str, Any]) -> str:
    text = str(event.get("description") or "")
    if not text or len(text) > 120 or _UNSCAN.search(text):
        return TrackingStatus(event["status"]).label if event.get("status") else "carrier scan"
    return text
