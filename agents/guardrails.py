"""Guardrails: deterministic checks between a proposal and its execution.

They are code, never prompt text: whatever a planner (or a customer writing to
it) says, a proposal that fails one of these waits for a human. Every figure a
check needs is read again here from system data (the store mirror, the policy,
our history); the draft's own evidence is never trusted."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from agents import risk
from agents.planner import AMOUNT_FROM_POLICY, AMOUNT_FROM_REMAINDER
from agents.policy.engine import FactsError
from agents.policy.tool import evaluate_return
from agents.replies import MONEY_WORDS
from agents.tools import return_facts_from_text
from desk import payouts
from desk.actions import EXECUTABLE_KINDS, ProposalDraft
from desk.models import Contact, Proposal
from integrations.models import Customer, Order, Return, StoreCredit
from tenants.models import Tenant

# Each of these runs alone only inside its own checks: a return label, a replacement
# or store credit when the returns policy says so, a cancellation only before
# anything shipped. Address changes are not here: the new address comes from the
# customer's words.
DEFAULT_AUTO_KINDS = [
    Proposal.Kind.REPLY,
    Proposal.Kind.REFUND,
    Proposal.Kind.RETURN_LABEL,
    Proposal.Kind.REPLACEMENT,
    Proposal.Kind.CANCEL_ORDER,
    Proposal.Kind.STORE_CREDIT,
]
# Kinds that give money back now: a cancellation refunds what was paid.
MONEY_KINDS = {Proposal.Kind.REFUND, Proposal.Kind.STORE_CREDIT, Proposal.Kind.CANCEL_ORDER}
# Kinds that pay back the order's refundable remainder; they share the daily cap.
REMAINDER_KINDS = (Proposal.Kind.REFUND, Proposal.Kind.CANCEL_ORDER)
# Kinds whose reply may talk about money: the amount is re-derived from system data.
MONEY_TALK_KINDS = MONEY_KINDS | {Proposal.Kind.RETURN_LABEL}
# Kinds that send goods back or out under the returns policy.
GOODS_KINDS = {Proposal.Kind.RETURN_LABEL, Proposal.Kind.REPLACEMENT}
# Kinds that move money or goods: risk signals stop these.
VALUE_KINDS = MONEY_KINDS | {
    Proposal.Kind.REPLACEMENT,
    Proposal.Kind.RETURN_LABEL,
    Proposal.Kind.CANCEL_ORDER,
    Proposal.Kind.ADDRESS_CHANGE,
}
# Store words for an order that has (partly) left the warehouse.
SHIPPED_FULFILLMENT = {"fulfilled", "partial", "partially_fulfilled", "shipped"}
# The policy outcome each returns-kind needs.
POLICY_OUTCOMES = {
    Proposal.Kind.RETURN_LABEL: {"refund"},
    Proposal.Kind.STORE_CREDIT: {"store_credit"},
    Proposal.Kind.REPLACEMENT: {"replacement", "exchange"},
    Proposal.Kind.REFUND: {"keep_item_refund"},
}

_AMOUNT = re.compile(
    r"(?:[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?))"
    r"|(?:\b(\d[\d,]*(?:\.\d{1,2})?)\s?(?:USD|EUR|GBP|CAD|AUD|dollars?|euros?|pounds?)\b)"
    r"|(?:\b(\d{1,3}(?:,\d{3})*\.\d{2})\b)",
    re.IGNORECASE,
)
_ORDER_REF = re.compile(r"#\s?([A-Za-z0-9][A-Za-z0-9-]{2,})")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
# In every language the agent answers in.
_MONEY_PROMISE = re.compile(MONEY_WORDS, re.IGNORECASE)


def _verdict(name: str, passed: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "passed": passed, "detail": detail}


def check(
    tenant: Tenant,
    draft: ProposalDraft,
    *,
    order: Order | None,
    customer: Customer | None,
    contact: Contact | None = None,
    signals: list[risk.Signal] | None = None,
    refunded: Decimal | None = None,
) -> list[dict[str, Any]]:
    """Every verdict, in order; the proposal may run alone only if all passed.

    ``contact`` adds the checks that need the conversation: the order belongs to
    whoever wrote, and the risk signals that depend on what they claim. A caller
    that has just assessed those signals for the same contact (and the claim its
    text makes) may hand them over as ``signals`` instead of having them re-read,
    and likewise the order's ``refunded`` total. Execution checks again either way."""
    verdicts = []
    allowed = tenant.auto_action_kinds or DEFAULT_AUTO_KINDS
    if draft.kind == Proposal.Kind.NONE:
        verdicts.append(_verdict("action_needed", False, draft.rationale or "Needs a human"))
    else:
        # A tenant may allow a kind the desk cannot execute yet: it still waits for a human.
        ok = draft.kind in allowed and draft.kind in EXECUTABLE_KINDS
        verdicts.append(
            _verdict(
                "kind_allowed",
                ok,
                f"{draft.kind} may run without a human"
                if ok
                else f"{draft.kind} is not allowed without a human for {tenant.name}"
                if draft.kind not in allowed
                else f"{draft.kind} has no automatic executor yet",
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
    order_customer = None
    if order is not None and order.customer_id:
        # Usually the customer already in hand: no second read of the same row.
        same = customer is not None and customer.pk == order.customer_id
        order_customer = customer if same else order.customer
    is_vip = bool(customer and customer.is_vip) or bool(order_customer and order_customer.is_vip)
    verdicts.append(
        _verdict(
            "not_vip", not is_vip, "VIP customer: a human handles it" if is_vip else "Not a VIP"
        )
    )
    if draft.kind == Proposal.Kind.NONE:
        return verdicts
    if contact is not None and order is not None:
        verdicts.append(_owner_check(contact, order))
    # Refunds read once for every check below: they all judge the same moment.
    if refunded is None and order is not None:
        refunded = order.refunded_total
    verdicts.append(_reply_grounded(draft, order, refunded))
    if draft.kind in VALUE_KINDS:
        verdicts.append(_risk_check(tenant, order, customer, contact, signals))
    if draft.kind in POLICY_OUTCOMES and (
        draft.kind != Proposal.Kind.REFUND
        or draft.parameters.get("amount_source") == AMOUNT_FROM_POLICY
    ):
        verdicts.append(_policy_check(tenant, draft, order, contact))
    if draft.kind == Proposal.Kind.CANCEL_ORDER:
        verdicts.append(_not_shipped(order, "cancel"))
    if draft.kind == Proposal.Kind.ADDRESS_CHANGE:
        verdicts.extend([_not_shipped(order, "redirect"), _address_checked(draft, order)])
    if draft.kind in GOODS_KINDS:
        verdicts.extend(_goods_checks(tenant, draft, order))
    if draft.kind == Proposal.Kind.STORE_CREDIT:
        # Credit comes with a return label: the goods must have arrived, and nothing
        # was returned or credited on the order before. Its value is held to the
        # auto-limit and the daily cap by the money checks below.
        verdicts.extend(
            [_delivered(order), _not_done_before(draft, order)]
            if order is not None
            else [_verdict("order_known", False, "No order to credit against")]
        )
    if draft.kind in MONEY_KINDS:
        verdicts.extend(_money_checks(tenant, draft, order, refunded))
    return verdicts


def _owner_check(contact: Contact, order: Order) -> dict[str, Any]:
    """A number typed into a message may be anyone's order: act only for its owner."""
    email = (contact.customer_email or "").lower()
    owns = bool(email) and email == (order.email or "").lower()
    if not owns and contact.customer_id and order.customer_id:
        owns = contact.customer_id == order.customer_id
    return _verdict(
        "order_belongs_to_customer",
        owns,
        f"Order #{order.number} belongs to the customer writing"
        if owns
        else f"Order #{order.number} is not registered to {email or 'this sender'}",
    )


def _system_amounts(order: Order | None, refunded: Decimal | None) -> set[Decimal]:
    if order is None or refunded is None:
        return set()
    amounts = {
        order.total,
        order.subtotal,
        order.shipping_total,
        order.tax_total,
        refunded,
        _remainder(order, refunded),
    }
    for line in order.lines.all():
        amounts |= {line.unit_price, line.line_total}
    return {a.quantize(Decimal("0.01")) for a in amounts}


def _remainder(order: Order, refunded: Decimal) -> Decimal:
    """``Order.refundable_remainder`` from refunds already read."""
    return max(order.total - refunded, Decimal("0"))


def _amounts_in(text: str) -> list[Decimal]:
    found = []
    for match in _AMOUNT.finditer(text):
        raw = next(g for g in match.groups() if g)
        try:
            found.append(Decimal(raw.replace(",", "")).quantize(Decimal("0.01")))
        except InvalidOperation:
            continue
    return found


def _reply_grounded(
    draft: ProposalDraft, order: Order | None, refunded: Decimal | None
) -> dict[str, Any]:
    """What we tell the customer is held to system data too: a fooled planner must not
    promise money, quote made-up amounts, point at links or talk about other orders."""
    text = draft.reply_draft or ""
    allowed = _system_amounts(order, refunded)
    if draft.amount is not None:
        allowed.add(draft.amount.quantize(Decimal("0.01")))
    problems = []
    stray = sorted({a for a in _amounts_in(text) if a not in allowed})
    if stray:
        problems.append(f"amounts not in the order or proposal: {', '.join(map(str, stray))}")
    numbers = {n.upper() for n in _ORDER_REF.findall(text)}
    if order is not None:
        numbers.discard(order.number.upper())
    if numbers:
        problems.append(f"mentions other orders: {', '.join(sorted(numbers))}")
    if _LINK.search(text):
        problems.append("contains a link")
    if draft.kind not in MONEY_TALK_KINDS and _MONEY_PROMISE.search(text):
        problems.append(f"talks about money on a {draft.kind} proposal")
    return _verdict(
        "reply_grounded",
        not problems,
        "; ".join(problems).capitalize() if problems else "The reply states only system facts",
    )


def _risk_check(
    tenant: Tenant,
    order: Order | None,
    customer: Customer | None,
    contact: Contact | None,
    signals: list[risk.Signal] | None,
) -> dict[str, Any]:
    if signals is None:
        claim = None
        if contact is not None:
            claim = risk.claim_kind(risk.contact_text(contact), contact.intent)
        signals = risk.assess(tenant, order=order, customer=customer, contact=contact, claim=claim)
    return _verdict(
        "no_risk_flags",
        not signals,
        "; ".join(f"{s.name}: {s.explanation}" for s in signals) if signals else "No risk signal",
    )


def policy_totals(
    tenant: Tenant, order: Order, lines: list[dict[str, Any]]
) -> tuple[set[str], Decimal, Decimal, list[str]]:
    """Re-run the policy on the store's lines: outcomes, refund total, credit total, notes."""
    outcomes: set[str] = set()
    refund = credit = Decimal("0")
    notes = []
    by_sku = {line.sku: line for line in order.lines.all()}
    for item in lines:
        line = by_sku.get(str(item.get("sku")))
        if line is None:
            outcomes.add("unknown_line")
            notes.append(f"{item.get('sku')} is not on order #{order.number}")
            continue
        try:
            decision = evaluate_return(
                tenant,
                line,
                condition=str(item.get("condition") or ""),
                reason=str(item.get("reason") or ""),
            )
        except (FactsError, ValueError) as exc:
            outcomes.add("review")
            notes.append(f"{line.sku}: {exc}")
            continue
        outcomes.add(decision["outcome"])
        notes.append(f"{line.sku}: {decision['outcome']} by rule {decision['rule_id']}")
        if decision.get("amounts"):
            refund += Decimal(decision["amounts"]["refund"])
            credit += Decimal(decision["amounts"]["store_credit"])
    return outcomes, refund, credit, notes


def _policy_check(
    tenant: Tenant, draft: ProposalDraft, order: Order | None, contact: Contact | None
) -> dict[str, Any]:
    lines = draft.parameters.get("policy_lines") or []
    if order is None or not lines:
        return _verdict("policy_allows", False, "No policy decision backs this proposal")
    if contact is not None:
        # The planner's reading of the customer must match what the customer actually said.
        stated = return_facts_from_text(risk.contact_text(contact))
        for item in lines:
            for key in ("reason", "condition"):
                if item.get(key) != stated[key]:
                    return _verdict(
                        "policy_allows",
                        False,
                        f"The {key} used ({item.get(key)}) is not what the customer stated "
                        f"({stated[key] or 'unclear'})",
                    )
    outcomes, _, _, notes = policy_totals(tenant, order, lines)
    wanted = POLICY_OUTCOMES[draft.kind]
    ok = bool(outcomes) and outcomes <= wanted
    return _verdict(
        "policy_allows",
        ok,
        f"Policy: {'; '.join(notes)}"
        if ok
        else f"Policy does not allow {draft.kind}: {'; '.join(notes)}",
    )


def _money_checks(
    tenant: Tenant, draft: ProposalDraft, order: Order | None, refunded: Decimal | None
) -> list[dict[str, Any]]:
    amount = draft.amount or Decimal("0")
    if order is None or refunded is None:
        return [_verdict("order_known", False, "No order: nothing to refund against")]
    # The remainder from the store mirror as read for this check, not from the draft's evidence.
    remainder = _remainder(order, refunded)
    limit = tenant.auto_refund_limit
    return [
        _amount_from_system(tenant, draft, order, amount, remainder),
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


def _amount_from_system(
    tenant: Tenant, draft: ProposalDraft, order: Order, amount: Decimal, remainder: Decimal
) -> dict[str, Any]:
    """The amount must be re-derivable from the store or the policy, whatever the draft says."""
    source = draft.parameters.get("amount_source")
    if draft.currency and draft.currency.upper() != order.currency.upper():
        return _verdict(
            "amount_from_system", False, f"Currency {draft.currency} is not the order's"
        )
    if source == AMOUNT_FROM_REMAINDER and draft.kind in REMAINDER_KINDS:
        return _verdict(
            "amount_from_system",
            amount == remainder,
            f"Amount {amount} taken from the order's refundable remainder {remainder}",
        )
    if source == AMOUNT_FROM_POLICY:
        _, refund, credit, notes = policy_totals(
            tenant, order, draft.parameters.get("policy_lines") or []
        )
        expected = credit if draft.kind == Proposal.Kind.STORE_CREDIT else refund
        return _verdict(
            "amount_from_system",
            amount == expected and amount > 0,
            f"Amount {amount} vs {expected} from the returns policy ({'; '.join(notes)})",
        )
    return _verdict(
        "amount_from_system", False, f"Amount {amount} has no system source ({source or 'none'})"
    )


def _daily_cap(tenant: Tenant, amount: Decimal) -> dict[str, Any]:
    """What the agent paid out alone today (refunds, store credit, cancellations:
    money the merchant owes once issued), read from the day's running total. This
    says whether the payout fits; approving it counts it, race-free
    (``desk.payouts.reserve``)."""
    spent = payouts.paid_out_today(tenant)
    cap = tenant.daily_auto_refund_cap
    return _verdict(
        "daily_cap",
        spent + amount <= cap,
        f"Automatic refunds and credit today {spent} + {amount} vs daily cap {cap}",
    )


def has_shipped(order: Order) -> bool:
    """By the store's word or any shipment (a label alone counts: the parcel is packed)."""
    if (order.fulfillment_status or "").lower() in SHIPPED_FULFILLMENT:
        return True
    return order.shipments.exists()


def _not_shipped(order: Order | None, verb: str) -> dict[str, Any]:
    """Cancelling or redirecting is only ours to do before the warehouse let go of it."""
    if order is None:
        return _verdict("not_shipped", False, f"No order to {verb}")
    if order.cancelled_at is not None:
        return _verdict("not_shipped", False, f"Order #{order.number} is already cancelled")
    shipped = has_shipped(order)
    return _verdict(
        "not_shipped",
        not shipped,
        f"Order #{order.number} has shipped (fulfilment "
        f"'{order.fulfillment_status or 'none'}', {order.shipments.count()} shipment(s)); "
        f"only a human can {verb} it now"
        if shipped
        else f"Order #{order.number} has not shipped",
    )


def _goods_checks(
    tenant: Tenant, draft: ProposalDraft, order: Order | None
) -> list[dict[str, Any]]:
    """A label or a replacement: the goods reached the customer, nothing was sent or
    taken back for this order already, and the value stays inside the auto-limit."""
    if order is None:
        return [_verdict("order_known", False, "No order to return or replace")]
    verdicts = [_delivered(order), _not_done_before(draft, order)]
    skus = {str(item.get("sku")) for item in draft.parameters.get("policy_lines") or []}
    if draft.kind == Proposal.Kind.RETURN_LABEL:
        verdicts.append(_return_amount(tenant, draft, order))
        value = draft.amount or Decimal("0")
    else:
        # What the merchant gives away: the store's price of the lines replaced.
        value = sum(
            (line.line_total for line in order.lines.all() if line.sku in skus), Decimal("0")
        )
    limit = tenant.auto_refund_limit
    verdicts.append(
        _verdict(
            "within_auto_limit",
            value <= limit,
            f"{draft.kind} worth {value} {order.currency} is above the auto-limit of {limit}"
            if value > limit
            else f"{value} ≤ auto-limit {limit}",
        )
    )
    return verdicts


def _delivered(order: Order) -> dict[str, Any]:
    delivered = order.shipments.filter(status="delivered").exists()
    return _verdict(
        "delivered",
        delivered,
        f"A carrier delivered order #{order.number}"
        if delivered
        else f"No carrier shows order #{order.number} delivered",
    )


def _not_done_before(draft: ProposalDraft, order: Order) -> dict[str, Any]:
    """A second label, a second credit or a second free item for the same order is a
    human's call."""
    if draft.kind == Proposal.Kind.RETURN_LABEL:
        earlier = Return.objects.filter(order=order).exclude(status=Return.Status.CANCELLED)
        what = "a return"
    elif draft.kind == Proposal.Kind.STORE_CREDIT:
        returned = Return.objects.filter(order=order).exclude(status=Return.Status.CANCELLED)
        done = returned.exists() or StoreCredit.objects.filter(order=order).exists()
        return _verdict(
            "not_done_before",
            not done,
            f"Order #{order.number} already has a return or store credit"
            if done
            else "No earlier return or store credit",
        )
    else:
        earlier = Order.objects.filter(
            tenant=order.tenant, raw__replacement_of=str(order.public_id)
        )
        what = "a replacement"
    done = earlier.exists()
    return _verdict(
        "not_done_before",
        not done,
        f"Order #{order.number} already has {what}" if done else f"No earlier {what}",
    )


def _return_amount(tenant: Tenant, draft: ProposalDraft, order: Order) -> dict[str, Any]:
    """The refund a return label promises is the policy's, re-derived from the store's lines."""
    _, refund, _, notes = policy_totals(tenant, order, draft.parameters.get("policy_lines") or [])
    amount = draft.amount
    same_currency = not draft.currency or draft.currency.upper() == order.currency.upper()
    ok = (
        draft.parameters.get("amount_source") == AMOUNT_FROM_POLICY
        and amount == refund
        and same_currency
    )
    return _verdict(
        "amount_from_system",
        ok,
        f"Promised refund {amount} {draft.currency} vs {refund} {order.currency} from the "
        f"returns policy ({'; '.join(notes)})",
    )


_ADDRESS_LIMITS = {
    "name": 120,
    "address1": 120,
    "address2": 120,
    "city": 80,
    "province_code": 8,
    "zip": 16,
    "country_code": 2,
}
_ADDRESS_TEXT = re.compile(r"^[^\x00-\x1f<>{}@]*$")


def _address_checked(draft: ProposalDraft, order: Order | None) -> dict[str, Any]:
    """A new address runs alone only as parsed fields that look like an address and
    stay in the country the order ships to; anything else is a specialist's check."""
    address = draft.parameters.get("address")
    if not isinstance(address, dict):
        return _verdict("address_checked", False, "No new address parsed into fields")
    problems = []
    for key in ("name", "address1", "city", "country_code"):
        if not str(address.get(key) or "").strip():
            problems.append(f"{key} missing")
    for key, value in address.items():
        limit = _ADDRESS_LIMITS.get(key)
        text = str(value or "")
        if limit is None:
            problems.append(f"unexpected field {key}")
        elif len(text) > limit or not _ADDRESS_TEXT.match(text) or _LINK.search(text):
            problems.append(f"{key} does not look like an address")
    country = str(address.get("country_code") or "").upper()
    current = str(((order.shipping_address if order else None) or {}).get("country_code") or "")
    if country and current and country != current.upper():
        problems.append(f"moves the order from {current.upper()} to {country}")
    return _verdict(
        "address_checked",
        not problems,
        "; ".join(problems).capitalize() if problems else "The new address is well-formed",
    )
