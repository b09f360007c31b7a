"""The embedded planner: a deterministic plan for every intent from system data.

It needs no LLM and is the default; an LLM planner proposes through the same
ProposalDraft and the same guardrails."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agents.replies import DEFAULT as DEFAULT_LANGUAGE
from agents.replies import MONEY_WORDS, greeting, say
from desk.actions import ProposalDraft
from desk.models import Intent, Proposal
from integrations.models import TrackingStatus

NAME = "embedded"

# Where a money-moving amount came from; guardrails re-derive it from the same source.
AMOUNT_FROM_REMAINDER = "order.refundable_remainder"
AMOUNT_FROM_POLICY = "policy"

# The message for each status we can answer alone (agents/replies.py).
_STATUS_REPLIES = {
    status: f"status_{status}"
    for status in (
        TrackingStatus.PENDING,
        TrackingStatus.INFO_RECEIVED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.AVAILABLE_FOR_PICKUP,
        TrackingStatus.DELIVERED,
        TrackingStatus.FAILED_ATTEMPT,
    )
}
# Statuses a human should look at before we tell the customer anything.
_NEEDS_HUMAN = {TrackingStatus.EXCEPTION, TrackingStatus.EXPIRED}


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


class _Writer:
    """The replies of one plan: in one language, each opening with the same greeting."""

    def __init__(self, language: str, hello: str) -> None:
        self.language = language
        self.hello = hello

    def __call__(self, key: str, **values: Any) -> str:
        return say(self.language, key, hello=self.hello, **values)

    def text(self, key: str, **values: Any) -> str:
        """A fragment without the greeting."""
        return say(self.language, key, **values)


def plan(
    *,
    intent: str,
    confidence: float,
    evidence: dict[str, Any],
    customer_name: str,
    language: str = DEFAULT_LANGUAGE,
) -> ProposalDraft:
    """One proposal from the intent and the evidence, its reply in ``language``
    (see ``agents.replies.reply_language``). Deterministic: the same evidence
    always gives the same draft."""
    order = evidence.get("order")
    reply = _Writer(language, greeting(language, customer_name))
    conf = Decimal(str(confidence)).quantize(Decimal("0.001"))
    if order is None:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("no_order"),
            confidence=Decimal("0.2"),
            rationale="No order could be matched from the order number or the customer's email.",
            evidence=evidence,
            asks_customer=True,
        )
    if evidence.get("returns"):
        return _plan_return(conf, evidence, reply)
    if intent in (Intent.WISMO, Intent.DELIVERY_EXCEPTION):
        return _plan_tracking(intent, conf, evidence, reply)
    if intent == Intent.REFUND_REQUEST:
        return _plan_refund(conf, evidence, reply)
    if intent == Intent.CANCEL_ORDER:
        return _plan_cancel(conf, evidence, reply)
    if intent == Intent.CHANGE_ADDRESS:
        return _plan_address(conf, evidence, reply)
    label = Intent(intent).label if intent in Intent.values else intent
    return ProposalDraft(
        kind=Proposal.Kind.NONE,
        reply_draft=reply("specialist", number=order["number"]),
        confidence=conf,
        rationale=f"{label}: no automatic action for this intent.",
        evidence=evidence,
    )


def _plan_refund(conf: Decimal, evidence: dict[str, Any], reply: _Writer) -> ProposalDraft:
    order = evidence["order"]
    remainder = Decimal(order["refundable_remainder"])
    if remainder <= 0:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("refunded_in_full", number=order["number"]),
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
            reply_draft=reply("refund_in_transit", number=order["number"]),
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
        reply_draft=reply(
            "refund", amount=remainder, currency=order["currency"], number=order["number"]
        ),
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


def _plan_cancel(conf: Decimal, evidence: dict[str, Any], reply: _Writer) -> ProposalDraft:
    order = evidence["order"]
    shipped = _shipped(evidence)
    if order.get("is_cancelled"):
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("already_cancelled", number=order["number"]),
            confidence=conf,
            rationale="The store shows the order as cancelled already.",
            evidence=evidence,
        )
    if shipped:
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("cancel_shipped", number=order["number"]),
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
            reply_draft=reply("specialist_short", number=order["number"]),
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
        reply_draft=reply(
            "cancel", number=order["number"], amount=remainder, currency=order["currency"]
        ),
        confidence=conf,
        rationale=f"Order #{order['number']} has not shipped; it can still be cancelled and "
        f"its refundable remainder of {remainder} {order['currency']} paid back.",
        evidence=evidence,
    )


def _plan_address(conf: Decimal, evidence: dict[str, Any], reply: _Writer) -> ProposalDraft:
    order = evidence["order"]
    if _shipped(evidence):
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("address_shipped", number=order["number"]),
            confidence=conf,
            rationale="Address change after shipping: only the carrier can redirect.",
            evidence=evidence,
        )
    return ProposalDraft(
        kind=Proposal.Kind.ADDRESS_CHANGE,
        parameters={"order": order["number"]},
        reply_draft=reply("address", number=order["number"]),
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


def _plan_return(conf: Decimal, evidence: dict[str, Any], reply: _Writer) -> ProposalDraft:
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
            reply_draft=reply("return_review", number=number),
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
                reply_draft=reply("specialist_short", number=number),
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
            reply_draft=reply(
                "keep_item_refund", message=message, amount=amount, currency=currency, number=number
            ),
            confidence=conf,
            rationale=rationale,
            evidence=evidence,
        )
    if kind == Proposal.Kind.RETURN_LABEL:
        amount = _sum(decisions, "refund")
        text = reply("return_label", number=number, amount=amount, currency=currency)
    elif kind == Proposal.Kind.STORE_CREDIT:
        amount = _sum(decisions, "store_credit")
        text = reply("store_credit", number=number, amount=amount, currency=currency)
    else:
        amount = None
        text = reply("replacement", message=message, number=number)
    return ProposalDraft(
        kind=kind,
        amount=amount,
        currency=currency if amount is not None else "",
        parameters={**parameters, "amount_source": AMOUNT_FROM_POLICY}
        if amount is not None
        else parameters,
        reply_draft=text,
        confidence=conf,
        rationale=rationale,
        evidence=evidence,
    )


def _plan_tracking(
    intent: str, conf: Decimal, evidence: dict[str, Any], reply: _Writer
) -> ProposalDraft:
    order = evidence["order"]
    shipments = evidence.get("shipments") or []
    if not shipments and order.get("fulfillment_status") == "fulfilled":
        # Shipped without any tracking we know of: telling the customer "not shipped yet"
        # would be false.
        return ProposalDraft(
            kind=Proposal.Kind.NONE,
            reply_draft=reply("shipping_unknown", number=order["number"]),
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
        else reply.text("label_created")
    )
    eta = (
        reply.text("eta", date=shipment["estimated_delivery"])
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
            reply_draft=reply(
                "delivery_problem",
                number=order["number"],
                carrier=shipment["carrier"] or reply.text("the_carrier"),
            ),
            confidence=conf,
            rationale=f"{problem}: a delivery problem needs a specialist's call "
            "(reship, refund or carrier claim).",
            evidence=evidence,
        )
    text = reply(
        _STATUS_REPLIES[status],
        number=order["number"],
        carrier=shipment["carrier"].upper() or reply.text("the_carrier"),
        tracking=shipment["tracking_number"],
        last=last_text,
        eta=eta,
    )
    return ProposalDraft(
        kind=Proposal.Kind.REPLY,
        reply_draft=text,
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
    r"approv|credit|voucher|password|click)|" + MONEY_WORDS,
    re.IGNORECASE,
)


def _scan_text(event: dict[str, Any]) -> str:
    text = str(event.get("description") or "")
    if not text or len(text) > 120 or _UNSCAN.search(text):
        return TrackingStatus(event["status"]).label if event.get("status") else "carrier scan"
    return text
