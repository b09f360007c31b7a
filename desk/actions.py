"""Every state change of a contact, proposal or decision goes through here.

Each action runs in one transaction, writes its audit row with the actor, and
schedules side effects (agent and execution tasks, live inbox pushes) on commit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import Sum, Value
from django.utils import timezone

from billing.actions import convert_on_reopen, record_usage
from desk import csat, delivery, live, payouts, rollups, sla
from desk.models import (
    Contact,
    Decision,
    Macro,
    Message,
    Proposal,
    QaReview,
    SlaClock,
    SlaPolicy,
)
from integrations import access as commerce
from integrations import executors
from integrations.messaging import actions as outbox
from integrations.models import Customer, Order, Return, Shipment
from tenants.actions import audit, audits_in_one_insert
from tenants.actor import Actor
from tenants.models import Membership, Tenant, User
from tenants.roles import Permission, Role


class DecisionError(Exception):
    """A decision that cannot be taken; the message is shown to the specialist."""


class AlreadyDecided(DecisionError):
    pass


class ClaimedByOther(DecisionError):
    pass


# Kinds a human may approve or the agent may run: each has an executor. Address
# changes stay out until a proposal can carry a new address that was parsed into
# fields and checked; a customer's free text alone never redirects goods.
EXECUTABLE_KINDS = (
    Proposal.Kind.REPLY,
    Proposal.Kind.REFUND,
    Proposal.Kind.RETURN_LABEL,
    Proposal.Kind.REPLACEMENT,
    Proposal.Kind.CANCEL_ORDER,
    Proposal.Kind.STORE_CREDIT,
)
# Kinds whose amount is derived by the system (the order's remainder, the returns
# policy): a specialist approves or overrides them but never edits the figure.
FIXED_AMOUNT_KINDS = (Proposal.Kind.CANCEL_ORDER, Proposal.Kind.STORE_CREDIT)


@dataclass
class ProposalDraft:
    """What a planner hands over: the action it proposes and why."""

    kind: str
    reply_draft: str
    confidence: Decimal
    rationale: str
    amount: Decimal | None = None
    currency: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    # The reply is a question only the customer can answer (an order number, a
    # photo): it goes out at once and the SLA waits for the answer.
    asks_customer: bool = False


def _enqueue(task_name: str, **kwargs: Any) -> None:
    """Send a task by name after commit: the desk does not import the agents app."""
    from desk.celery import app

    transaction.on_commit(lambda: app.send_task(task_name, kwargs=kwargs))


@transaction.atomic
def create_contact(
    tenant: Tenant,
    *,
    actor: Actor,
    channel: str,
    customer_email: str,
    body: str,
    customer_name: str = "",
    order_number: str = "",
    subject: str = "",
    raw: dict[str, Any] | None = None,
    customer: Customer | None = None,
    idempotency_key: str = "",
) -> Contact:
    """Save an inbound contact and its first message; the agent picks it up on commit.
    ``customer`` is given when the sender is known by phone rather than email.
    With an ``idempotency_key`` already used by the tenant this raises
    IntegrityError (in a transaction of its own, callers can look the first one up)."""
    order = commerce.find_order(tenant, order_number) if order_number else None
    contact = Contact(
        tenant=tenant,
        channel=channel,
        customer=customer or commerce.find_customer(tenant, customer_email),
        customer_email=customer_email.lower(),
        customer_name=customer_name,
        order=order,
        order_number_given=order_number,
        subject=subject,
        idempotency_key=idempotency_key,
    )
    # The search document goes in with the row: its only message is the one below.
    contact.search_vector = _search_vector(contact, bodies=body)
    contact.save(force_insert=True)
    Message.objects.create(
        contact=contact,
        direction=Message.Direction.INBOUND,
        author_type=Message.Author.CUSTOMER,
        body=body,
        raw=raw or {},
    )
    audit(tenant, actor, "contact.create", contact, {"channel": channel})
    _enqueue("agents.handle_contact", contact_id=contact.pk)
    return contact


def refresh_search(contact: Contact) -> None:
    """Rebuild the contact's search document: customer, order number, subject, messages.
    The 'simple' configuration: customers write in many languages and in email addresses."""
    Contact.objects.filter(pk=contact.pk).update(search_vector=_search_vector(contact))


def _search_vector(contact: Contact, *, bodies: str | None = None) -> SearchVector:
    """``bodies``, when the caller knows every message the customer and the desk
    wrote, saves reading them back."""
    order_number = contact.order.number if contact.order_id else ""
    if bodies is None:
        bodies = " ".join(
            contact.messages.exclude(direction=Message.Direction.INTERNAL).values_list(
                "body", flat=True
            )
        )
    text = " ".join(
        [
            contact.customer_email,
            contact.customer_email.split("@")[0],
            contact.customer_name,
            contact.order_number_given,
            order_number,
            contact.subject,
            bodies[:20000],
        ]
    )
    return SearchVector(Value(text), config="simple")


def understand(
    contact: Contact,
    *,
    intent: str,
    confidence: Decimal,
    language: str,
    order: Order | None,
) -> dict[str, Any]:
    """What the agent understood: intent, language and, if found, the order.

    ``contact`` is updated in place (its loaded tenant, customer and order stay),
    so the caller carries on without reading the row back. Nothing is written here:
    the changes returned go to ``submit_proposal``, which writes them with the
    decision in one UPDATE of the row (every update of a contact adds an entry to
    each of its indexes; the board's includes the intent). The search document is
    rebuilt only when the order is new to the contact, since the order's number is
    all the understanding adds to it."""
    contact.intent = intent
    # As the column keeps it (three places), for whoever reads the instance next.
    contact.intent_confidence = confidence.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    contact.language = language
    changes: dict[str, Any] = {
        "intent": contact.intent,
        "intent_confidence": contact.intent_confidence,
        "language": language,
    }
    if order is not None and order.pk != contact.order_id:
        contact.order = order
        changes["order"] = order
        changes["search_vector"] = _search_vector(contact)
    return changes


def _carry_understanding(locked: Contact, understanding: dict[str, Any] | None) -> list[str]:
    """Set what the agent understood on the locked row; the fields to save with it."""
    for name, value in (understanding or {}).items():
        setattr(locked, name, value)
    return list(understanding or {})


def _lock_contact(contact: Contact) -> Contact:
    """The contact's row, locked and read afresh. Resolving and escalating read its
    tenant, customer and order: the ones the caller loaded moments ago come along
    (they are not what the lock protects), the rest load when first read."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    for name in ("tenant", "customer", "order"):
        field = Contact._meta.get_field(name)
        if field.is_cached(contact) and getattr(contact, field.attname) == getattr(
            locked, field.attname
        ):
            field.set_cached_value(locked, field.get_cached_value(contact))
    return locked


@transaction.atomic
@audits_in_one_insert()
def submit_proposal(
    contact: Contact,
    draft: ProposalDraft,
    *,
    guardrails: list[dict[str, Any]],
    actor: Actor,
    agent_run_ref: Any = None,
    execute_here: bool = False,
    understanding: dict[str, Any] | None = None,
) -> Proposal:
    """Put the agent's proposal on the table. If every guardrail passed it is
    approved and executed without a human; otherwise the contact is escalated
    and appears live in the inbox.

    An approved action goes to the execution task on commit, unless the caller
    says it will ``execute_here`` (``execute_proposal`` once this commits).
    ``understanding`` (from ``understand``) is written with the decision.

    Idempotent per contact: a contact that already has a proposal (a re-run
    task) gets no second one."""
    locked = _lock_contact(contact)
    if locked.status != Contact.Status.RECEIVED:
        existing = locked.current_proposal
        if existing is not None:
            return existing
    understood = _carry_understanding(locked, understanding)
    failed = [g for g in guardrails if not g["passed"]]
    # The guardrails read the day's total a moment ago; approving counts the payout
    # against it for good, unless payouts approved meanwhile took the room.
    pays_out = not failed and draft.kind in Proposal.MONEY_KINDS and draft.amount
    if pays_out and not payouts.reserve(locked.tenant, draft.amount):
        taken = {
            "name": "daily_cap",
            "passed": False,
            "detail": f"Daily cap {locked.tenant.daily_auto_refund_cap} reached by "
            f"automatic payouts approved meanwhile; {draft.amount} no longer fits",
        }
        guardrails = [g for g in guardrails if g["name"] != "daily_cap"] + [taken]
        failed = [taken]
    # Nothing to change on a store: answering is the whole action, done here in
    # the same transaction instead of a second task, so the proposal is born executed.
    answered_here = not failed and draft.kind == Proposal.Kind.REPLY
    if failed:
        status = Proposal.Status.PROPOSED
    else:
        status = Proposal.Status.EXECUTED if answered_here else Proposal.Status.APPROVED
    proposal = Proposal.objects.create(
        tenant=locked.tenant,
        contact=locked,
        kind=draft.kind,
        status=status,
        executed_at=timezone.now() if answered_here else None,
        amount=draft.amount,
        currency=draft.currency,
        parameters=draft.parameters,
        reply_draft=draft.reply_draft,
        confidence=draft.confidence,
        rationale=draft.rationale,
        evidence=draft.evidence,
        guardrails=guardrails,
        agent_run_ref=agent_run_ref,
    )
    audit(
        locked.tenant,
        actor,
        "proposal.submit",
        proposal,
        {
            "kind": draft.kind,
            "amount": str(draft.amount or ""),
            "failed": [g["name"] for g in failed],
        },
    )
    if failed:
        question = draft.reply_draft.strip() if draft.asks_customer else ""
        locked.risk_flags = [
            r["name"] for r in (draft.evidence or {}).get("risk", []) if "name" in r
        ]
        _escalate(
            locked,
            "; ".join(g["detail"] for g in failed),
            question=question,
            also=[*understood, "risk_flags"],
        )
    elif answered_here:
        _resolve(locked, by_ai=True, reply=draft.reply_draft, actor=actor, also=understood)
    else:
        locked.status = Contact.Status.EXECUTING
        locked.save(update_fields=["status", "updated_at", *understood])
        if not execute_here:
            _enqueue("desk.execute_proposal", proposal_id=proposal.pk)
    return proposal


def _escalate(
    contact: Contact, reason: str, *, question: str = "", also: Sequence[str] = ()
) -> None:
    """Hand the contact to a human, with the decision clock started. With a
    ``question`` for the customer, it is sent instead of the holding message and
    the clocks pause until the customer answers (``customer_replied``). ``also``
    names other fields the caller changed, saved in the same UPDATE."""
    now = timezone.now()
    contact.status = Contact.Status.ESCALATED
    contact.escalated_at = contact.escalated_at or now
    contact.sla_due_at = contact.sla_due_at or sla.start_escalation_clocks(contact, now)
    contact.escalation_reason = reason[:255]
    contact.save(
        update_fields=[
            "status",
            "escalated_at",
            "sla_due_at",
            "escalation_reason",
            "updated_at",
            *also,
        ]
    )
    holding = contact.tenant.holding_message.strip()
    if question:
        delivery.deliver(
            Message.objects.create(
                contact=contact,
                direction=Message.Direction.OUTBOUND,
                author_type=Message.Author.AGENT,
                body=question,
                raw={"kind": "question", "waiting_on_customer": True},
            )
        )
        sla.pause_clocks(contact, SlaClock.PauseReason.CUSTOMER)
    # Once per case, and only if nobody has written to the customer yet.
    elif holding and not contact.messages.filter(direction=Message.Direction.OUTBOUND).exists():
        delivery.deliver(
            Message.objects.create(
                contact=contact,
                direction=Message.Direction.OUTBOUND,
                author_type=Message.Author.AGENT,
                body=holding,
                raw={"kind": "holding_message"},
            )
        )
    live.push_inbox_on_commit(contact)


@transaction.atomic
def reopen(contact: Contact, reason: str, *, actor: Actor, now=None) -> bool:
    """A resolved contact comes back to the desk: the customer answered its resolution,
    or the answer never reached them. It lands in the inbox with a proposal that needs
    a human and a fresh decision clock; a specialist answers it like any escalation.

    An AI resolution less than 72 hours old did not deflect: billing converts it to a
    human one (still one billable resolution per contact, however often it reopens).
    Returns False, changing nothing, unless the contact is resolved."""
    now = now or timezone.now()
    locked = _lock_contact(contact)
    if locked.status != Contact.Status.RESOLVED:
        return False
    converted = convert_on_reopen(locked.tenant, locked.public_id, reopened_at=now)
    Proposal.objects.create(
        tenant=locked.tenant,
        contact=locked,
        kind=Proposal.Kind.NONE,
        status=Proposal.Status.PROPOSED,
        reply_draft="",
        confidence=Decimal("0"),
        rationale=f"Reopened: {reason}",
        guardrails=[{"name": "reopened", "passed": False, "detail": reason}],
    )
    _withdraw_waiting_survey(locked)
    resolved_at = locked.resolved_at
    locked.resolution, locked.resolved_at = "", None
    locked.save(update_fields=["resolution", "resolved_at"])
    locked.sla_due_at = sla.restart_decision_clock(locked, now)
    _escalate(locked, reason)
    audit(
        locked.tenant,
        actor,
        "contact.reopen",
        locked,
        {"reason": reason[:200], "billing_converted": bool(converted)},
    )
    # The day it was resolved loses a resolution; today gains an escalation.
    rollups.note_change(locked.tenant, resolved_at, now)
    return True


def _withdraw_waiting_survey(contact: Contact) -> None:
    """A contact that reopens before its survey left is not asked to rate a resolution
    that did not hold: the survey still waiting is withdrawn, and shows so in the
    conversation; the next resolution surveys afresh (see ``_resolve``)."""
    surveys = {
        f"{delivery.KEY_PREFIX}{m.pk}": m
        for m in contact.messages.filter(
            direction=Message.Direction.OUTBOUND, raw__kind="csat_survey"
        ).exclude(raw__has_key="withdrawn")
    }
    if not surveys:
        return
    for row in outbox.withdraw(contact.tenant_id, list(surveys)):
        survey = surveys[row.idempotency_key]
        survey.raw = {**survey.raw, "withdrawn": True}
        survey.save(update_fields=["raw"])


# --- claims ---------------------------------------------------------------------


def _take_claim(contact: Contact, user: User, now) -> None:
    contact.assigned_to = user
    contact.claimed_at = (
        now if contact.assigned_to_id != user.pk or not contact.claimed_at else contact.claimed_at
    )
    contact.claim_expires_at = now + Contact.CLAIM_TTL
    contact.save(update_fields=["assigned_to", "claimed_at", "claim_expires_at", "updated_at"])


def _ensure_claim(contact: Contact, user: User) -> None:
    """Deciding or writing needs the claim: mine, or free (then it becomes mine)."""
    now = timezone.now()
    if contact.claim_is_live(now) and contact.assigned_to_id != user.pk:
        raise ClaimedByOther(f"{contact.assigned_to} is working on this contact.")
    _take_claim(contact, user, now)


@transaction.atomic
def claim_next(user: User, tenants: list[Tenant]) -> Contact | None:
    """Claim the escalation due soonest that nobody holds, for ``user``.

    Rows are locked with SKIP LOCKED, so two specialists pressing "Next" at the
    same moment never get the same contact. Expired claims count as free."""
    now = timezone.now()
    from django.db.models import Q

    contact = (
        Contact.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("tenant", "assigned_to")
        .filter(tenant__in=tenants, status=Contact.Status.ESCALATED)
        .filter(Q(assigned_to__isnull=True) | Q(claim_expires_at__lte=now) | Q(assigned_to=user))
        .order_by("sla_due_at", "id")
        .first()
    )
    if contact is None:
        return None
    _take_claim(contact, user, now)
    audit(contact.tenant, Actor.member(user), "contact.claim", contact, {"via": "next"})
    live.push_inbox_on_commit(contact)
    return contact


@transaction.atomic
def claim_contact(contact: Contact, user: User) -> Contact:
    """Claim one contact from its page; refused while someone else's claim is live."""
    locked = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "assigned_to")
        .get(pk=contact.pk)
    )
    _ensure_claim(locked, user)
    audit(locked.tenant, Actor.member(user), "contact.claim", locked, {"via": "page"})
    live.push_inbox_on_commit(locked)
    return locked


@transaction.atomic
def release_claim(contact: Contact, user: User) -> Contact:
    locked = (
        Contact.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=contact.pk)
    )
    if locked.assigned_to_id == user.pk:
        locked.assigned_to = None
        locked.claimed_at = locked.claim_expires_at = None
        locked.save(update_fields=["assigned_to", "claimed_at", "claim_expires_at", "updated_at"])
        audit(locked.tenant, Actor.member(user), "contact.release", locked)
        live.push_inbox_on_commit(locked)
    return locked


@transaction.atomic
def reassign_contact(contact: Contact, lead: User, to_user: User) -> Contact:
    """A lead hands the contact to another specialist who may decide for that tenant."""
    locked = (
        Contact.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=contact.pk)
    )
    target = Membership.objects.filter(user=to_user, tenant=locked.tenant).first()
    if target is None or not target.can(Permission.DECIDE_PROPOSALS):
        raise DecisionError(f"{to_user} cannot decide for {locked.tenant}.")
    previous = locked.assigned_to.email if locked.assigned_to else None
    _take_claim(locked, to_user, timezone.now())
    audit(
        locked.tenant,
        Actor.member(lead),
        "contact.reassign",
        locked,
        {"from": previous, "to": to_user.email},
    )
    live.push_inbox_on_commit(locked)
    return locked


# --- deciding ---------------------------------------------------------------------


def _check_edit(proposal: Proposal, kind: str, amount: Decimal | None) -> None:
    """Re-validate what a human put on the table, as strictly as the agent's own."""
    if kind not in EXECUTABLE_KINDS:
        raise DecisionError(f"{Proposal.Kind(kind).label} cannot be executed from the desk yet.")
    if kind == Proposal.Kind.REFUND:
        order = proposal.contact.order
        if order is None:
            raise DecisionError("A refund needs an order.")
        if amount is None or amount <= 0:
            raise DecisionError("A refund needs a positive amount.")
        if amount > order.refundable_remainder:
            raise DecisionError(
                f"{amount} is more than the order's refundable remainder of {order.refundable_remainder}."
            )
    if kind == Proposal.Kind.STORE_CREDIT and (amount is None or amount <= 0):
        raise DecisionError("Store credit needs the amount the returns policy set.")


@transaction.atomic
def approve_proposal(
    proposal: Proposal,
    user: User,
    *,
    role: str,
    reason_code: str,
    note: str = "",
    kind: str | None = None,
    amount: Decimal | None = None,
) -> Decision:
    """A specialist approves the proposal, as it stands or edited (amount) or
    overridden (another kind); execution follows on commit.

    Locks the proposal row: of two simultaneous approvals (double click, two
    specialists) exactly one wins, the other gets AlreadyDecided. A specialist
    approving money above the tenant's approval limit records the first of two
    approvals; a lead's co-approval releases it."""
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("tenant", "contact__order")
        .get(pk=proposal.pk)
    )
    if locked.status != Proposal.Status.PROPOSED:
        raise AlreadyDecided("This proposal has already been decided.")
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "assigned_to")
        .get(pk=locked.contact_id)
    )
    _ensure_claim(contact, user)
    kind = kind or locked.kind
    if kind == Proposal.Kind.NONE:
        raise DecisionError("There is no action to approve; reply to the customer instead.")
    amount = amount if kind == Proposal.Kind.REFUND and amount is not None else locked.amount
    # A cancellation refunds what was paid and store credit is worth what the policy
    # says: their amounts stay (not editable) so the specialist limit and a lead's
    # co-approval apply to them like to a refund.
    if kind not in (Proposal.Kind.REFUND, *FIXED_AMOUNT_KINDS):
        amount = None
    _check_edit(locked, kind, amount)
    changes = {}
    if kind != locked.kind:
        changes["kind"] = [locked.kind, kind]
    if amount != locked.amount:
        changes["amount"] = [_str(locked.amount), _str(amount)]
    outcome = (
        Decision.Outcome.OVERRIDE
        if "kind" in changes
        else Decision.Outcome.EDIT
        if changes
        else Decision.Outcome.APPROVE
    )
    decision = Decision.objects.create(
        tenant=locked.tenant,
        proposal=locked,
        decided_by=user,
        outcome=outcome,
        reason_code=reason_code,
        note=note,
        changes=changes,
    )
    locked.kind, locked.amount = kind, amount
    if amount is not None and not locked.currency and contact.order:
        locked.currency = contact.order.currency
    limit = locked.tenant.specialist_approval_limit
    needs_lead = role == Role.SPECIALIST and amount is not None and amount > limit
    locked.status = Proposal.Status.AWAITING_LEAD if needs_lead else Proposal.Status.APPROVED
    locked.save(update_fields=["kind", "amount", "currency", "status"])
    audit(
        locked.tenant,
        Actor.member(user),
        f"proposal.{outcome}",
        locked,
        {"reason": reason_code, "changes": changes},
    )
    if needs_lead:
        contact.escalation_reason = (
            f"Approved by {user} for {amount} {locked.currency}; above the specialist limit of {limit}, "
            "a team lead must co-approve."
        )[:255]
        contact.save(update_fields=["escalation_reason", "updated_at"])
    else:
        _start_execution(contact, locked)
    live.push_inbox_on_commit(contact)
    return decision


def _str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _start_execution(contact: Contact, proposal: Proposal) -> None:
    contact.status = Contact.Status.EXECUTING
    contact.save(update_fields=["status", "updated_at"])
    _enqueue("desk.execute_proposal", proposal_id=proposal.pk)


@transaction.atomic
def co_approve_proposal(proposal: Proposal, lead: User, *, role: str, note: str = "") -> Decision:
    """The second approval of a two-person decision: a lead, not the first approver."""
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=proposal.pk)
    )
    if locked.status != Proposal.Status.AWAITING_LEAD:
        raise AlreadyDecided("This proposal is not waiting for a co-approval.")
    if role not in (Role.LEAD, Role.ADMIN):
        raise DecisionError("Only a team lead can co-approve.")
    if locked.decisions.filter(decided_by=lead).exists():
        raise DecisionError("The co-approval must come from a second person.")
    decision = Decision.objects.create(
        tenant=locked.tenant,
        proposal=locked,
        decided_by=lead,
        outcome=Decision.Outcome.CO_APPROVE,
        reason_code=Decision.Reason.POLICY_OK,
        note=note,
    )
    locked.status = Proposal.Status.APPROVED
    locked.save(update_fields=["status"])
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=locked.contact_id)
    )
    audit(locked.tenant, Actor.member(lead), "proposal.co_approve", locked)
    _start_execution(contact, locked)
    live.push_inbox_on_commit(contact)
    return decision


@transaction.atomic
def reject_proposal(
    proposal: Proposal, user: User, *, reason_code: str, reply: str, note: str = "", role: str = ""
) -> Decision:
    """Turn the proposal down and answer the customer instead; the contact is
    resolved by a human. With no reply nothing is sent: the customer was answered
    another way, which the note says (the form insists). A lead may also turn down
    one awaiting co-approval."""
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=proposal.pk)
    )
    awaiting = locked.status == Proposal.Status.AWAITING_LEAD and role in (Role.LEAD, Role.ADMIN)
    # A failed execution comes back to the case; replying instead closes it.
    failed = locked.status == Proposal.Status.FAILED
    if locked.status != Proposal.Status.PROPOSED and not (awaiting or failed):
        raise AlreadyDecided("This proposal has already been decided.")
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "assigned_to")
        .get(pk=locked.contact_id)
    )
    if not awaiting:
        _ensure_claim(contact, user)
    decision = Decision.objects.create(
        tenant=locked.tenant,
        proposal=locked,
        decided_by=user,
        outcome=Decision.Outcome.REJECT,
        reason_code=reason_code,
        note=note,
    )
    locked.status = Proposal.Status.REJECTED
    locked.save(update_fields=["status"])
    _resolve(contact, by_ai=False, reply=reply, actor=Actor.member(user), decision=decision)
    audit(locked.tenant, Actor.member(user), "proposal.reject", locked, {"reason": reason_code})
    return decision


@transaction.atomic
def add_note(contact: Contact, user: User, body: str) -> Message:
    """An internal note for colleagues; never sent to the customer."""
    note = Message.objects.create(
        contact=contact,
        direction=Message.Direction.INTERNAL,
        author_type=Message.Author.MEMBER,
        author_user=user,
        body=body,
    )
    audit(contact.tenant, Actor.member(user), "contact.note", contact)
    return note


@transaction.atomic
def send_reply(
    contact: Contact, user: User, body: str, *, waiting_on_customer: bool = False
) -> Message:
    """Write to the customer without deciding (e.g. to ask for a photo). Claimant only.
    ``waiting_on_customer`` pauses the resolution and decision clocks until the
    customer answers (``customer_replied``)."""
    locked = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "assigned_to")
        .get(pk=contact.pk)
    )
    _ensure_claim(locked, user)
    message = Message.objects.create(
        contact=locked,
        direction=Message.Direction.OUTBOUND,
        author_type=Message.Author.MEMBER,
        author_user=user,
        body=body,
        raw={"waiting_on_customer": True} if waiting_on_customer else {},
    )
    delivery.deliver(message)
    if waiting_on_customer:
        sla.pause_clocks(locked, SlaClock.PauseReason.CUSTOMER)
    audit(
        locked.tenant,
        Actor.member(user),
        "contact.reply",
        locked,
        {"waiting_on_customer": True} if waiting_on_customer else None,
    )
    refresh_search(locked)
    live.push_inbox_on_commit(locked)
    return message


@transaction.atomic
def customer_replied(
    contact: Contact,
    body: str,
    *,
    raw: dict[str, Any] | None = None,
    channel: str = "",
    now=None,
) -> Message:
    """A new message from the customer on an existing contact (email reply, SMS,
    chat). Stores it and resumes the clocks that were waiting on the customer.
    Safe to call for any contact: with nothing paused, only the message is stored."""
    message = Message.objects.create(
        contact=contact,
        direction=Message.Direction.INBOUND,
        author_type=Message.Author.CUSTOMER,
        body=body,
        raw=raw or {},
        **({"created_at": now} if now else {}),
    )
    resumed = sla.resume_clocks(contact, now, reason=SlaClock.PauseReason.CUSTOMER)
    audit(
        contact.tenant,
        Actor.system("customer"),
        "contact.customer_reply",
        contact,
        {"resumed": resumed, **({"channel": channel} if channel else {})},
    )
    refresh_search(contact)
    if contact.status == Contact.Status.ESCALATED:
        live.push_inbox_on_commit(contact)
    return message


def _open_contacts_of(order_id: int):
    return Contact.objects.select_related("tenant").filter(
        order_id=order_id, status__in=sla.OPEN_STATUSES
    )


def wait_on_carrier(order: Order, now=None) -> int:
    """A return label is out (the parcel is on its way back) or a carrier claim is
    open: every open contact about the order stops its resolution and decision
    clocks until the carrier moves (``carrier_delivered``). Idempotent."""
    return sum(
        sla.pause_clocks(c, SlaClock.PauseReason.CARRIER, now) for c in _open_contacts_of(order.pk)
    )


@transaction.atomic
def carrier_claim(
    contact: Contact, user: User, *, opened: bool, reference: str = "", now=None
) -> int:
    """The claimant filed a claim with the carrier (lost, damaged) or heard back.
    While it is open the contact's resolution and decision clocks wait on the
    carrier; closing it counts them again. Kept as an internal note and
    audited. Returns the clocks paused or resumed."""
    locked = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "assigned_to")
        .get(pk=contact.pk)
    )
    _ensure_claim(locked, user)
    if opened:
        changed = sla.pause_clocks(locked, SlaClock.PauseReason.CARRIER, now)
        text = f"Carrier claim filed{f' ({reference})' if reference else ''}: SLA waits on the carrier."
    else:
        changed = sla.resume_clocks(locked, now, reason=SlaClock.PauseReason.CARRIER)
        text = f"Carrier claim answered{f' ({reference})' if reference else ''}: SLA counts again."
    Message.objects.create(
        contact=locked,
        direction=Message.Direction.INTERNAL,
        author_type=Message.Author.MEMBER,
        author_user=user,
        body=text,
    )
    audit(
        locked.tenant,
        Actor.member(user),
        "contact.carrier_claim_opened" if opened else "contact.carrier_claim_closed",
        locked,
        {"reference": reference, "clocks": changed},
    )
    return changed


def return_parcel_delivered(shipment: Shipment, now=None) -> int:
    """A delivered scan: if the parcel is a return coming back, the open cases about
    its order stop waiting on the carrier. Idempotent; returns the clocks resumed."""
    if not shipment.tracking_number:
        return 0
    return sum(
        carrier_delivered(ret.order, now)
        for ret in Return.objects.select_related("order").filter(
            tenant_id=shipment.tenant_id, label_tracking_number=shipment.tracking_number
        )
    )


def carrier_delivered(order: Order, now=None) -> int:
    """The parcel the desk was waiting for arrived (the return was received):
    clocks paused on the carrier count again. Idempotent."""
    return sum(
        sla.resume_clocks(c, now, reason=SlaClock.PauseReason.CARRIER)
        for c in _open_contacts_of(order.pk)
    )


def execute_proposal(proposal_id: int) -> Proposal:
    """Carry out an approved proposal on the merchant's systems, then resolve the contact.

    Safe to run twice and concurrently: the store call carries the proposal's
    idempotency key, and only the first finisher (under a row lock) resolves
    the contact and writes usage. The store call is made outside the lock so a
    slow platform never holds database locks."""
    proposal = Proposal.objects.select_related("contact__order", "tenant").get(pk=proposal_id)
    if proposal.status != Proposal.Status.APPROVED:
        return proposal
    # One merchant's rows: its contact and order carry the tenant already read.
    proposal.contact.tenant = proposal.tenant
    if proposal.contact.order is not None:
        proposal.contact.order.tenant = proposal.tenant
    result: dict[str, Any] = {}
    try:
        if proposal.kind != Proposal.Kind.REPLY:
            result = _run_executor(proposal)
    except executors.ExecutionError as exc:
        if not exc.permanent:
            raise
        return _fail_execution(proposal, str(exc))
    return _finish_execution(proposal, result)


def _run_executor(proposal: Proposal) -> dict[str, Any]:
    """The store calls of one proposal, keyed by its idempotency key; what they returned."""
    order = proposal.contact.order
    run = {
        Proposal.Kind.REFUND: _execute_refund,
        Proposal.Kind.RETURN_LABEL: _execute_return,
        Proposal.Kind.REPLACEMENT: _execute_replacement,
        Proposal.Kind.CANCEL_ORDER: _execute_cancel,
        Proposal.Kind.ADDRESS_CHANGE: _execute_address_change,
        Proposal.Kind.STORE_CREDIT: _execute_store_credit,
    }.get(proposal.kind)
    if run is None:
        raise executors.ExecutionError(
            f"No executor for {proposal.get_kind_display()} yet", permanent=True
        )
    if order is None:
        raise executors.ExecutionError(
            f"The contact has no order to {_VERBS[proposal.kind]}", permanent=True
        )
    return run(proposal, order)


_VERBS = {
    Proposal.Kind.REFUND: "refund",
    Proposal.Kind.RETURN_LABEL: "return",
    Proposal.Kind.REPLACEMENT: "replace",
    Proposal.Kind.CANCEL_ORDER: "cancel",
    Proposal.Kind.ADDRESS_CHANGE: "change",
    Proposal.Kind.STORE_CREDIT: "credit",
}


def _store_note(proposal: Proposal) -> str:
    return f"Desk contact {proposal.contact.public_id}"


def _outcome(outcome: executors.ExecutionResult) -> dict[str, Any]:
    return {"external_id": outcome.external_id, **outcome.detail}


def _execute_refund(proposal: Proposal, order: Order) -> dict[str, Any]:
    return _outcome(
        executors.refund(
            order,
            proposal.amount or Decimal("0"),
            idempotency_key=proposal.idempotency_key,
            note=_store_note(proposal),
        )
    )


def _policy_lines(proposal: Proposal, order: Order) -> list[executors.LineRequest]:
    """The lines the returns policy decided on. Quantities come from the store's
    lines, never from the proposal: the policy decided on whole lines."""
    held: dict[str, int] = {}
    for line in order.lines.all():
        held[line.sku] = held.get(line.sku, 0) + line.quantity
    requests: dict[str, executors.LineRequest] = {}
    for item in proposal.parameters.get("policy_lines") or []:
        sku = str(item.get("sku") or "")
        if sku not in held:
            raise executors.ExecutionError(f"{sku} is not on order #{order.number}", permanent=True)
        requests.setdefault(
            sku,
            executors.LineRequest(
                sku=sku, quantity=held[sku], reason=str(item.get("reason") or "")
            ),
        )
    return list(requests.values())


def _execute_return(proposal: Proposal, order: Order) -> dict[str, Any]:
    return _outcome(
        executors.create_return(
            order,
            _policy_lines(proposal, order),
            idempotency_key=proposal.idempotency_key,
            note=_store_note(proposal),
        )
    )


def _execute_replacement(proposal: Proposal, order: Order) -> dict[str, Any]:
    return _outcome(
        executors.create_replacement(
            order,
            _policy_lines(proposal, order),
            idempotency_key=proposal.idempotency_key,
            note=_store_note(proposal),
        )
    )


def _execute_cancel(proposal: Proposal, order: Order) -> dict[str, Any]:
    """Cancel, then give the payment back. Cancelling comes first: a store that refuses
    (the order shipped meanwhile) must not have refunded goods already on their way.
    Platforms cancel without refunding, so the refund is its own keyed call."""
    result = _outcome(
        executors.cancel(
            order,
            idempotency_key=proposal.idempotency_key,
            reason="customer",
            note=_store_note(proposal),
        )
    )
    refund_key = f"{proposal.idempotency_key}:refund"
    amount = _cancel_refund_amount(proposal, order, refund_key)
    if amount <= 0:
        return result
    try:
        refunded = executors.refund(
            order, amount, idempotency_key=refund_key, note=_store_note(proposal)
        )
    except executors.ExecutionError as exc:
        if not exc.permanent:
            raise
        raise executors.ExecutionError(
            f"Order #{order.number} is cancelled but its refund failed: {exc}", permanent=True
        ) from exc
    return {**result, "refund": {"amount": f"{amount:.2f}", **_outcome(refunded)}}


def _execute_store_credit(proposal: Proposal, order: Order) -> dict[str, Any]:
    """A return paid in store credit: the label first, so the goods come back, then
    the credit, each under its own key. A store that refuses the label (the order
    was never delivered) must not have credited anything yet."""
    amount = proposal.amount or Decimal("0")
    if amount <= 0:
        raise executors.ExecutionError("Store credit needs a positive amount", permanent=True)
    label = _outcome(
        executors.create_return(
            order,
            _policy_lines(proposal, order),
            idempotency_key=f"{proposal.idempotency_key}:return",
            note=_store_note(proposal),
        )
    )
    try:
        credited = executors.store_credit(
            order, amount, idempotency_key=proposal.idempotency_key, note=_store_note(proposal)
        )
    except executors.ExecutionError as exc:
        if not exc.permanent:
            raise
        raise executors.ExecutionError(
            f"The return label for order #{order.number} is out but its store credit failed: {exc}",
            permanent=True,
        ) from exc
    return {**_outcome(credited), "amount": f"{amount:.2f}", "return": label}


def _cancel_refund_amount(proposal: Proposal, order: Order, refund_key: str) -> Decimal:
    """What is left to pay back, counting every refund but this proposal's own, so a
    retry after the refund landed asks for the same amount and replays it. Never more
    than the amount the guardrails or a lead checked, when the proposal carries one."""
    others = order.refunds.exclude(idempotency_key=refund_key).aggregate(s=Sum("amount"))["s"]
    left = max(order.total - (others or Decimal("0")), Decimal("0"))
    return left if proposal.amount is None else min(proposal.amount, left)


# The fields a checked address may carry; anything else on the proposal is ignored.
_ADDRESS_FIELDS = ("name", "address1", "address2", "city", "province_code", "zip", "country_code")


def _execute_address_change(proposal: Proposal, order: Order) -> dict[str, Any]:
    """Only an address the planner parsed into fields (``parameters["address"]``) and
    the ``address_checked`` guardrail passed is sent to the store."""
    fields = (proposal.parameters or {}).get("address")
    checked = any(
        g.get("name") == "address_checked" and g.get("passed") for g in proposal.guardrails
    )
    if not checked or not isinstance(fields, dict):
        raise executors.ExecutionError(
            "No checked new address on this proposal; change it in the store", permanent=True
        )
    values = {k: str(fields.get(k) or "").strip()[:120] for k in _ADDRESS_FIELDS}
    if not all(values[k] for k in ("name", "address1", "city", "country_code")):
        raise executors.ExecutionError("The new address is incomplete", permanent=True)
    return _outcome(
        executors.update_shipping_address(
            order,
            executors.Address(**values),
            idempotency_key=proposal.idempotency_key,
        )
    )


@transaction.atomic
@audits_in_one_insert()
def _finish_execution(proposal: Proposal, result: dict[str, Any]) -> Proposal:
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=proposal.pk)
    )
    if locked.status != Proposal.Status.APPROVED:
        return locked
    locked.status = Proposal.Status.EXECUTED
    locked.executed_at = timezone.now()
    locked.execution_result = result
    locked.save(update_fields=["status", "executed_at", "execution_result"])
    first = locked.decisions.order_by("created_at").first()
    decided_by = first.decided_by if first else None
    actor = Actor.member(decided_by) if decided_by else Actor.agent()
    # Resolving reads the contact's tenant, customer and order; only its own row is locked.
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant", "customer", "order")
        .get(pk=locked.contact_id)
    )
    audit(locked.tenant, actor, "proposal.execute", locked, result)
    if contact.status == Contact.Status.RESOLVED:
        rollups.note_change(locked.tenant, locked.executed_at)
    # Otherwise the resolution notes the execution's day with its own, in one insert.
    _resolve(
        contact,
        by_ai=decided_by is None,
        reply=locked.reply_draft,
        actor=actor,
        decision=first if decided_by is not None else None,
        changed_too=locked.executed_at,
    )
    if locked.kind in (Proposal.Kind.RETURN_LABEL, Proposal.Kind.STORE_CREDIT) and contact.order_id:
        # The parcel is on its way back: other open cases about the order wait on it.
        wait_on_carrier(contact.order)
    return locked


@transaction.atomic
def _fail_execution(proposal: Proposal, error: str) -> Proposal:
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != Proposal.Status.APPROVED:
        return locked
    locked.status = Proposal.Status.FAILED
    locked.execution_result = {"error": error}
    locked.save(update_fields=["status", "execution_result"])
    if not locked.decisions.exists():
        payouts.give_back(locked)  # the agent's own payout, which never happened
    contact = (
        Contact.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .get(pk=locked.contact_id)
    )
    _escalate(contact, f"Execution failed: {error}")
    audit(locked.tenant, Actor.system("executor"), "proposal.fail", locked, {"error": error})
    return locked


def _resolve(
    contact: Contact,
    *,
    by_ai: bool,
    reply: str,
    actor: Actor,
    also: Sequence[str] = (),
    decision: Decision | None = None,
    changed_too: datetime | None = None,
) -> None:
    """Close the contact, send the reply and bill the resolution (exactly once), with
    the specialist's ``decision`` behind a human resolution as the ledger's evidence.
    ``also`` names other fields the caller changed, saved in the same UPDATE;
    ``changed_too`` another moment whose board day changed (an execution's)."""
    if contact.status == Contact.Status.RESOLVED:
        return
    now = timezone.now()
    contact.status = Contact.Status.RESOLVED
    contact.resolution = Contact.Resolution.AI if by_ai else Contact.Resolution.HUMAN
    contact.resolved_at = now
    contact.claim_expires_at = None
    contact.save(
        update_fields=[
            "status",
            "resolution",
            "resolved_at",
            "claim_expires_at",
            "updated_at",
            *also,
        ]
    )
    record_usage(
        contact.tenant,
        contact.public_id,
        by_ai=by_ai,
        occurred_at=now,
        decision_ref=decision.public_id if decision is not None else None,
    )
    rollups.note_change(contact.tenant, now, changed_too)
    if by_ai and sampled_for_qa(contact):
        QaReview.objects.get_or_create(tenant=contact.tenant, contact=contact)
    sla.stop_clocks(contact, now)
    # The survey is dated at the resolution, the answer a moment later (see csat.survey);
    # both are written in one insert, and queued in another.
    outgoing = [csat.survey(contact, now)]
    if reply:
        outgoing.append(
            Message(
                contact=contact,
                direction=Message.Direction.OUTBOUND,
                author_type=Message.Author.AGENT if by_ai else Message.Author.MEMBER,
                author_user=actor.user,
                body=reply,
            )
        )
    # A contact that comes back and is closed without writing to the customer (they
    # were answered another way) was surveyed the first time: once is enough. One it
    # reopened before its survey left (withdrawn) is surveyed now.
    elif (
        contact.messages.filter(raw__kind="csat_survey").exclude(raw__has_key="withdrawn").exists()
    ):
        outgoing = []
    delivery.deliver_all(Message.objects.bulk_create(outgoing))
    audit(contact.tenant, actor, "contact.resolve", contact, {"by": contact.resolution})
    live.push_inbox_on_commit(contact)


# --- quality and macros -------------------------------------------------------------


def sampled_for_qa(contact: Contact) -> bool:
    """A stable, blind sample: the same contact is always in or out, whoever asks."""
    percent = contact.tenant.qa_sample_percent
    return (
        percent > 0
        and int(hashlib.sha256(contact.public_id.bytes).hexdigest()[:8], 16) % 100 < percent
    )


@transaction.atomic
def record_qa_verdict(review: QaReview, user: User, *, verdict: str, note: str = "") -> QaReview:
    locked = QaReview.objects.select_for_update().get(pk=review.pk)
    before = locked.verdict
    locked.verdict, locked.note, locked.reviewer = verdict, note, user
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=["verdict", "note", "reviewer", "reviewed_at"])
    audit(
        locked.tenant, Actor.member(user), "qa.review", locked, {"before": before, "after": verdict}
    )
    return locked


@transaction.atomic
def save_macro(tenant: Tenant, user: User, *, name: str, body: str) -> Macro:
    macro, _ = Macro.objects.update_or_create(tenant=tenant, name=name, defaults={"body": body})
    audit(tenant, Actor.member(user), "macro.save", macro, {"name": name})
    return macro


@transaction.atomic
def delete_macro(macro: Macro, user: User) -> None:
    audit(macro.tenant, Actor.member(user), "macro.delete", macro, {"name": macro.name})
    macro.delete()


def fill_macro(macro: Macro, contact: Contact) -> str:
    """The macro's text with the case's facts in place of its {variables}."""
    order = contact.order
    shipment = order.shipments.order_by("-created_at").first() if order else None
    values = {
        "customer_name": (contact.customer_name or "").split(" ")[0] or "there",
        "order_number": f"#{order.number}" if order else "your order",
        "tracking_number": shipment.tracking_number if shipment else "",
        "carrier": shipment.carrier.upper() if shipment else "the carrier",
        "merchant": contact.tenant.name,
    }
    # One pass: a value that itself looks like "{merchant}" is never expanded again.
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), macro.body)


# --- SLA policies ------------------------------------------------------------------

SLA_POLICY_FIELDS = (
    "first_response_minutes",
    "resolution_minutes",
    "decision_minutes",
    "carrier_response_minutes",
    "business_hours",
    "holidays",
)


@transaction.atomic
def save_sla_policy(tenant: Tenant, user: User, *, priority: str, **values: Any) -> SlaPolicy:
    """Set a tenant's targets for one priority; the audit row keeps before and after.
    Clocks already running keep the budget and deadline they started with."""
    policy = SlaPolicy.objects.select_for_update().filter(tenant=tenant, priority=priority).first()
    before = {f: getattr(policy, f) for f in SLA_POLICY_FIELDS} if policy else None
    policy = policy or SlaPolicy(tenant=tenant, priority=priority)
    for name in SLA_POLICY_FIELDS:
        setattr(policy, name, values[name])
    policy.save()
    after = {f: getattr(policy, f) for f in SLA_POLICY_FIELDS}
    if after != before:
        audit(
            tenant,
            Actor.member(user),
            "sla_policy.save",
            policy,
            {"priority": priority, "before": before, "after": after},
        )
    return policy
