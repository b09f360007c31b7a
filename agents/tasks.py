"""Celery tasks of the agent."""

from __future__ import annotations

import logging
import traceback
from decimal import Decimal

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from agents import extraction, guardrails, intents, planner, tools
from agents.models import AgentRun
from desk import actions as desk_actions
from desk.models import Contact, Message, Proposal
from integrations import access as commerce
from tenants.actor import Actor

logger = logging.getLogger(__name__)


@shared_task(
    name="agents.handle_contact",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=5,
    soft_time_limit=30,
)
def handle_contact(self, *, contact_id: int) -> str:
    """Understand a received contact, gather evidence, propose, and act or escalate.

    Safe to run twice: a contact the agent already handled is skipped, and
    submit_proposal refuses a second proposal under a row lock. An unexpected
    error escalates the contact with the error, so nothing is lost."""
    contact = Contact.objects.select_related("tenant", "order", "customer").get(pk=contact_id)
    if contact.status != Contact.Status.RECEIVED:
        return "skipped"
    run = AgentRun.objects.create(tenant=contact.tenant, contact=contact, planner=planner.NAME)
    try:
        outcome = _run(contact, run)
    except OperationalError:
        run.outcome = AgentRun.Outcome.FAILED
        run.error = traceback.format_exc()
        run.finished_at = timezone.now()
        run.save()
        raise
    except Exception as exc:
        logger.exception("Agent failed on contact %s", contact_id)
        run.outcome = AgentRun.Outcome.FAILED
        run.error = traceback.format_exc()
        run.finished_at = timezone.now()
        run.save()
        desk_actions.submit_proposal(
            contact,
            desk_actions.ProposalDraft(
                kind=Proposal.Kind.NONE,
                reply_draft="",
                confidence=Decimal("0"),
                rationale=f"The agent failed: {type(exc).__name__}: {exc}",
            ),
            guardrails=[{"name": "agent_error", "passed": False, "detail": f"Agent error: {exc}"}],
            actor=Actor.agent(),
            agent_run_ref=run.public_id,
        )
        return "escalated"
    run.outcome = outcome
    run.finished_at = timezone.now()
    run.save()
    return outcome


def _run(contact: Contact, run: AgentRun) -> str:
    inbound = contact.messages.filter(direction=Message.Direction.INBOUND).order_by("created_at")
    text = "\n".join([contact.subject, *[m.body for m in inbound]])
    understood = intents.classify(text)
    claims = extraction.extract(text)
    run.steps.append(
        {
            "tool": "classify",
            "result": {"intent": understood.intent, "confidence": understood.confidence},
        }
    )
    run.steps.append({"tool": "extract", "result": claims.__dict__})

    order = contact.order
    for number in claims.order_numbers:
        order = order or commerce.find_order(contact.tenant, number)
    order = order or commerce.latest_order_for_email(contact.tenant, contact.customer_email)
    desk_actions.record_understanding(
        contact,
        intent=understood.intent,
        confidence=Decimal(str(understood.confidence)),
        language=claims.language,
        order_id=order.pk if order else None,
    )
    customer = contact.customer or commerce.find_customer(contact.tenant, contact.customer_email)

    evidence: dict = {
        "intent": {"name": understood.intent, "confidence": understood.confidence},
        # Untrusted: what the customer wrote. Shown apart from system facts.
        "customer_claims": {
            "order_numbers": claims.order_numbers,
            "amounts": claims.claimed_amounts,
            "language": claims.language,
        },
        "order": tools.get_order(order) if order else None,
        "shipments": tools.get_tracking(order) if order else [],
        "customer": tools.get_customer_history(contact, customer),
    }
    run.steps.append({"tool": "get_order", "found": order is not None})
    draft = planner.plan(
        intent=understood.intent,
        confidence=understood.confidence,
        evidence=evidence,
        customer_name=contact.customer_name,
    )
    verdicts = guardrails.check(contact.tenant, draft, order=order, customer=customer)
    run.steps.append({"tool": "guardrails", "result": verdicts})
    proposal = desk_actions.submit_proposal(
        contact, draft, guardrails=verdicts, actor=Actor.agent(), agent_run_ref=run.public_id
    )
    if proposal.status == Proposal.Status.PROPOSED:
        return AgentRun.Outcome.ESCALATED
    return AgentRun.Outcome.RESOLVED
