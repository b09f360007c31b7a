"""Every state change of a contact, proposal or decision goes through here.

Each action runs in one transaction, writes its audit row with the actor, and
schedules side effects (agent and execution tasks, live inbox pushes) on commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing.actions import record_usage
from desk import live
from desk.models import Contact, Decision, Message, Proposal
from integrations import access as commerce
from integrations import executors
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant, User


class DecisionError(Exception):
    """A decision that cannot be taken; the message is shown to the specialist."""


class AlreadyDecided(DecisionError):
    pass


class AboveApprovalLimit(DecisionError):
    pass


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
) -> Contact:
    """Save an inbound contact and its first message; the agent picks it up on commit."""
    order = commerce.find_order(tenant, order_number) if order_number else None
    contact = Contact.objects.create(
        tenant=tenant,
        channel=channel,
        customer=commerce.find_customer(tenant, customer_email),
        customer_email=customer_email.lower(),
        customer_name=customer_name,
        order=order,
        order_number_given=order_number,
        subject=subject,
    )
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


@transaction.atomic
def record_understanding(
    contact: Contact, *, intent: str, confidence: Decimal, language: str, order_id: int | None
) -> None:
    """What the agent understood: intent, language and, if found, the order."""
    Contact.objects.filter(pk=contact.pk).update(
        intent=intent,
        intent_confidence=confidence,
        language=language,
        order_id=order_id if order_id is not None else contact.order_id,
    )
    contact.refresh_from_db()


@transaction.atomic
def submit_proposal(
    contact: Contact,
    draft: ProposalDraft,
    *,
    guardrails: list[dict[str, Any]],
    actor: Actor,
    agent_run_ref: Any = None,
) -> Proposal:
    """Put the agent's proposal on the table. If every guardrail passed it is
    approved and executed without a human; otherwise the contact is escalated
    and appears live in the inbox.

    Idempotent per contact: a contact that already has a proposal (a re-run
    task) gets no second one."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.status != Contact.Status.RECEIVED:
        existing = locked.current_proposal
        if existing is not None:
            return existing
    proposal = Proposal.objects.create(
        tenant=locked.tenant,
        contact=locked,
        kind=draft.kind,
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
    failed = [g for g in guardrails if not g["passed"]]
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
        locked.status = Contact.Status.ESCALATED
        locked.escalated_at = timezone.now()
        locked.escalation_reason = "; ".join(g["detail"] for g in failed)[:255]
        locked.save(update_fields=["status", "escalated_at", "escalation_reason", "updated_at"])
        live.push_inbox_on_commit(locked)
    elif proposal.kind == Proposal.Kind.REPLY:
        # Nothing to change on a store: answering is the whole action, done here
        # in the same transaction instead of a second task.
        proposal.status = Proposal.Status.EXECUTED
        proposal.executed_at = timezone.now()
        proposal.save(update_fields=["status", "executed_at"])
        _resolve(locked, by_ai=True, reply=draft.reply_draft, actor=actor)
    else:
        proposal.status = Proposal.Status.APPROVED
        proposal.save(update_fields=["status"])
        locked.status = Contact.Status.EXECUTING
        locked.save(update_fields=["status", "updated_at"])
        _enqueue("desk.execute_proposal", proposal_id=proposal.pk)
    return proposal


@transaction.atomic
def approve_proposal(
    proposal: Proposal, user: User, *, role: str, reason_code: str, note: str = ""
) -> Decision:
    """A specialist approves the proposal as it stands; execution follows on commit.

    Locks the proposal row: of two simultaneous approvals (double click, two
    specialists) exactly one wins, the other gets AlreadyDecided."""
    from tenants.roles import Role

    locked = Proposal.objects.select_for_update().select_related("tenant").get(pk=proposal.pk)
    if locked.status != Proposal.Status.PROPOSED:
        raise AlreadyDecided("This proposal has already been decided.")
    if locked.kind == Proposal.Kind.NONE:
        raise DecisionError("There is no action to approve; reply to the customer instead.")
    limit = locked.tenant.specialist_approval_limit
    if role == Role.SPECIALIST and locked.amount is not None and locked.amount > limit:
        raise AboveApprovalLimit(
            f"{locked.amount} {locked.currency} is above your approval limit of {limit}; "
            "a team lead must approve it."
        )
    decision = Decision.objects.create(
        tenant=locked.tenant,
        proposal=locked,
        decided_by=user,
        outcome=Decision.Outcome.APPROVE,
        reason_code=reason_code,
        note=note,
    )
    locked.status = Proposal.Status.APPROVED
    locked.save(update_fields=["status"])
    contact = Contact.objects.select_for_update().get(pk=locked.contact_id)
    contact.status = Contact.Status.EXECUTING
    contact.assigned_to = user
    contact.save(update_fields=["status", "assigned_to", "updated_at"])
    audit(locked.tenant, Actor.member(user), "proposal.approve", locked, {"reason": reason_code})
    _enqueue("desk.execute_proposal", proposal_id=locked.pk)
    live.push_inbox_on_commit(contact)
    return decision


@transaction.atomic
def reject_proposal(
    proposal: Proposal, user: User, *, reason_code: str, reply: str, note: str = ""
) -> Decision:
    """A specialist turns the proposal down and answers the customer instead;
    the contact is resolved by a human."""
    locked = Proposal.objects.select_for_update().select_related("tenant").get(pk=proposal.pk)
    if locked.status != Proposal.Status.PROPOSED:
        raise AlreadyDecided("This proposal has already been decided.")
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
    contact = Contact.objects.select_for_update().get(pk=locked.contact_id)
    _resolve(contact, by_ai=False, reply=reply, actor=Actor.member(user))
    audit(locked.tenant, Actor.member(user), "proposal.reject", locked, {"reason": reason_code})
    return decision


def execute_proposal(proposal_id: int) -> Proposal:
    """Carry out an approved proposal on the merchant's systems, then resolve the contact.

    Safe to run twice and concurrently: the store call carries the proposal's
    idempotency key, and only the first finisher (under a row lock) resolves
    the contact and writes usage. The store call is made outside the lock so a
    slow platform never holds database locks."""
    proposal = Proposal.objects.select_related("contact__order", "tenant").get(pk=proposal_id)
    if proposal.status != Proposal.Status.APPROVED:
        return proposal
    result: dict[str, Any] = {}
    try:
        if proposal.kind == Proposal.Kind.REFUND:
            order = proposal.contact.order
            if order is None:
                raise executors.ExecutionError("The contact has no order to refund", permanent=True)
            outcome = executors.refund(
                order,
                proposal.amount or Decimal("0"),
                idempotency_key=proposal.idempotency_key,
                note=f"Desk contact {proposal.contact.public_id}",
            )
            result = {"external_id": outcome.external_id, **outcome.detail}
        elif proposal.kind != Proposal.Kind.REPLY:
            raise executors.ExecutionError(
                f"No executor for {proposal.get_kind_display()} yet", permanent=True
            )
    except executors.ExecutionError as exc:
        if not exc.permanent:
            raise
        _fail_execution(proposal, str(exc))
        return proposal
    return _finish_execution(proposal, result)


@transaction.atomic
def _finish_execution(proposal: Proposal, result: dict[str, Any]) -> Proposal:
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != Proposal.Status.APPROVED:
        return locked
    locked.status = Proposal.Status.EXECUTED
    locked.executed_at = timezone.now()
    locked.execution_result = result
    locked.save(update_fields=["status", "executed_at", "execution_result"])
    decided_by = getattr(getattr(locked, "decision", None), "decided_by", None)
    actor = Actor.member(decided_by) if decided_by else Actor.agent()
    contact = Contact.objects.select_for_update().get(pk=locked.contact_id)
    audit(locked.tenant, actor, "proposal.execute", locked, result)
    _resolve(contact, by_ai=decided_by is None, reply=locked.reply_draft, actor=actor)
    return locked


@transaction.atomic
def _fail_execution(proposal: Proposal, error: str) -> None:
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != Proposal.Status.APPROVED:
        return
    locked.status = Proposal.Status.FAILED
    locked.execution_result = {"error": error}
    locked.save(update_fields=["status", "execution_result"])
    contact = Contact.objects.select_for_update().get(pk=locked.contact_id)
    contact.status = Contact.Status.ESCALATED
    contact.escalated_at = contact.escalated_at or timezone.now()
    contact.escalation_reason = f"Execution failed: {error}"[:255]
    contact.save(update_fields=["status", "escalated_at", "escalation_reason", "updated_at"])
    audit(locked.tenant, Actor.system("executor"), "proposal.fail", locked, {"error": error})
    live.push_inbox_on_commit(contact)


def _resolve(contact: Contact, *, by_ai: bool, reply: str, actor: Actor) -> None:
    """Close the contact, send the reply and bill the resolution (exactly once)."""
    if contact.status == Contact.Status.RESOLVED:
        return
    now = timezone.now()
    if reply:
        Message.objects.create(
            contact=contact,
            direction=Message.Direction.OUTBOUND,
            author_type=Message.Author.AGENT if by_ai else Message.Author.MEMBER,
            author_user=actor.user,
            body=reply,
        )
    contact.status = Contact.Status.RESOLVED
    contact.resolution = Contact.Resolution.AI if by_ai else Contact.Resolution.HUMAN
    contact.resolved_at = now
    contact.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
    record_usage(contact.tenant, contact.public_id, by_ai=by_ai, occurred_at=now)
    audit(contact.tenant, actor, "contact.resolve", contact, {"by": contact.resolution})
    live.push_inbox_on_commit(contact)
