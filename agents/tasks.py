"""Celery tasks of the agent."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from celery import current_app, shared_task
from django.db import OperationalError
from django.db.models import prefetch_related_objects
from django.utils import timezone

from agents import extraction, guardrails, intents, planner, replies, risk, telemetry, tools
from agents.llm import config as llm_config
from agents.models import AgentRun
from desk import actions as desk_actions
from desk.models import Contact, Proposal
from integrations import access as commerce
from integrations.messaging import actions as outbox
from integrations.models import Customer, Order
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
    run = AgentRun(tenant=contact.tenant, contact=contact, planner=planner.NAME)
    if llm_config.configured():
        # A model's calls are paid for: such a run is on record from its start, so one
        # a killed worker interrupts keeps its spend. A rule run, done in milliseconds,
        # is written once, as it ends.
        run.save()
    # The reply and the survey of a resolution leave from this task, after the run.
    with (
        outbox.send_after_commit_here(),
        telemetry.tracer().start_as_current_span(
            f"invoke_agent {telemetry.AGENT_NAME}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": telemetry.AGENT_NAME,
                "desk.tenant": contact.tenant.slug,
                "desk.contact.id": str(contact.public_id),
            },
        ) as span,
    ):
        try:
            return _handle(contact, run)
        finally:
            _describe_run(span, contact, run)


# Longer than handle_contact may run (its hard time limit is the default task limit):
# a run still "running" after this lost its worker.
INTERRUPTED_RUN_GRACE = timedelta(minutes=5)


def fail_interrupted_runs(now: datetime | None = None, *, limit: int = 500) -> int:
    """Close the runs a killed worker left "running", so a trace never shows a run
    that will not finish (model-planned runs: a rule run is written as it ends). The
    contact itself is not affected: still received, it is queued again by the
    stalled-work sweep, and a new run handles it. The tokens an
    interrupted model call spent stay on the run, as they were paid for. Safe to
    overlap: a run that finished meanwhile is no longer "running" and is left alone."""
    now = now or timezone.now()
    stalled = AgentRun.objects.filter(
        outcome=AgentRun.Outcome.RUNNING, started_at__lt=now - INTERRUPTED_RUN_GRACE
    ).values_list("pk", flat=True)[:limit]
    return AgentRun.objects.filter(pk__in=list(stalled), outcome=AgentRun.Outcome.RUNNING).update(
        outcome=AgentRun.Outcome.FAILED,
        finished_at=now,
        error="Interrupted: the worker stopped before the run finished.",
    )


@shared_task(name="agents.close_interrupted_runs", soft_time_limit=50, time_limit=60)
def close_interrupted_runs() -> int:
    """Run by beat every few minutes; routed to the sla queue (settings), not the
    agents' one, so a backlog of contacts never holds it up."""
    return fail_interrupted_runs()


def _describe_run(span: Any, contact: Contact, run: AgentRun) -> None:
    """What the run decided and spent, on its span."""
    if not span.is_recording():
        return
    proposal = contact.proposals.order_by("-created_at").first()
    intent = Contact.objects.filter(pk=contact.pk).values_list("intent", flat=True).first()
    span.set_attributes(
        {
            "desk.intent": intent or "",
            "desk.planner": run.planner,
            "desk.outcome": run.outcome,
            "desk.decision": proposal.kind if proposal else "",
            "gen_ai.usage.input_tokens": run.prompt_tokens,
            "gen_ai.usage.output_tokens": run.completion_tokens,
            "desk.cost_usd": float(run.cost_usd),
        }
    )


def _handle(contact: Contact, run: AgentRun) -> str:
    trace = tools.Trace(run)
    # What the agent understood, written with whatever decision ends the run.
    understanding: dict[str, Any] = {}
    try:
        outcome = _decide(contact, run, trace, understanding)
    except OperationalError:
        _finish_run(run, trace, AgentRun.Outcome.FAILED, error=traceback.format_exc())
        raise
    except Exception as exc:
        logger.exception("Agent failed on contact %s", contact.pk)
        _finish_run(run, trace, AgentRun.Outcome.FAILED, error=traceback.format_exc())
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
            understanding=understanding,
        )
        return "escalated"
    _finish_run(run, trace, outcome)
    return outcome


def _finish_run(run: AgentRun, trace: tools.Trace, outcome: str, *, error: str = "") -> None:
    """Record how the run ended, then its tool calls."""
    run.outcome, run.error, run.finished_at = outcome, error, timezone.now()
    trace.save_with_run()


def _decide(
    contact: Contact, run: AgentRun, trace: tools.Trace, understanding: dict[str, Any]
) -> str:
    text = risk.contact_text(contact)
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
    if order is not None:
        # The evidence, the guardrails and the policy all walk the order's lines: read them once.
        prefetch_related_objects([order], "lines")
    understanding.update(
        desk_actions.understand(
            contact,
            intent=understood.intent,
            confidence=Decimal(str(understood.confidence)),
            language=claims.language,
            order=order,
        )
    )
    customer = contact.customer or commerce.find_customer(contact.tenant, contact.customer_email)
    evidence, signals = gather_evidence(contact, order, customer, understood, claims, text, trace)
    language = replies.reply_language(contact.tenant, claims.language)
    run.steps.append({"tool": "reply_language", "result": {"language": language}})
    draft = None
    if llm_config.configured():
        from agents.llm import planner as llm_planner

        draft = llm_planner.plan(
            contact=contact,
            order=order,
            customer=customer,
            intent=understood.intent,
            confidence=understood.confidence,
            evidence=evidence,
            run=run,
            trace=trace,
            text=text,
            language=language,
        )
        run.planner = llm_planner.NAME if draft is not None else f"{planner.NAME}-fallback"
    if draft is None:
        draft = planner.plan(
            intent=understood.intent,
            confidence=understood.confidence,
            evidence=evidence,
            customer_name=contact.customer_name,
            language=language,
        )
    # What the specialist sees is the system's evidence, whatever the planner attached.
    draft.evidence = {**(draft.evidence or {}), **evidence}
    # The rule planner answers at once, so the signals and refunds just read still hold;
    # after a model's answer, which takes seconds, the guardrails read them afresh.
    at_once = run.planner == planner.NAME
    verdicts = guardrails.check(
        contact.tenant,
        draft,
        order=order,
        customer=customer,
        contact=contact,
        signals=signals if at_once else None,
        refunded=Decimal(evidence["order"]["refunded"]) if at_once and evidence["order"] else None,
    )
    run.steps.append({"tool": "guardrails", "result": verdicts})
    proposal = desk_actions.submit_proposal(
        contact,
        draft,
        guardrails=verdicts,
        actor=Actor.agent(),
        agent_run_ref=run.public_id,
        execute_here=True,
        understanding=understanding,
    )
    if proposal.status == Proposal.Status.PROPOSED:
        return AgentRun.Outcome.ESCALATED
    if proposal.status == Proposal.Status.APPROVED and (
        _execute_approved(proposal) == Proposal.Status.FAILED
    ):
        return AgentRun.Outcome.ESCALATED
    return AgentRun.Outcome.RESOLVED


def _execute_approved(proposal: Proposal) -> str:
    """Carry out the action the agent may take alone, now that its approval is
    committed, instead of queueing it behind other work. Whatever stops it here
    (a store that is down, a time limit) hands it to the execution task, which
    retries with backoff; the store call's idempotency key makes a second try
    safe. If this worker dies first, the stalled-work sweep queues it."""
    try:
        return desk_actions.execute_proposal(proposal.pk).status
    except Exception:
        logger.warning(
            "Executing proposal %s failed; the task retries it", proposal.pk, exc_info=True
        )
        current_app.send_task(
            "desk.execute_proposal", kwargs={"proposal_id": proposal.pk}, countdown=2
        )
        return proposal.status


def gather_evidence(
    contact: Contact,
    order: Order | None,
    customer: Customer | None,
    understood: intents.Classification,
    claims: extraction.Extracted,
    text: str,
    trace: tools.Trace,
) -> tuple[dict[str, Any], list[risk.Signal]]:
    """System facts for the planner and the specialist, customer words kept apart;
    and the risk signals behind the evidence's ``risk``."""
    tenant = contact.tenant
    intent = understood.intent
    facts = tools.return_facts_from_text(text)
    claim = risk.claim_kind(text, intent)
    # The customer's counts, read once for the history and the risk signals when both
    # judge the same address (they do, unless the contact came without one).
    email = risk.risk_email(order, customer, contact)
    known = (
        risk.customer_facts(tenant, email, besides_contact=contact.pk)
        if email and email == contact.customer_email.lower()
        else None
    )
    evidence: dict[str, Any] = {
        "intent": {"name": intent, "confidence": understood.confidence},
        # Untrusted: what the customer wrote. Shown apart from system facts.
        "customer_claims": {
            "order_numbers": claims.order_numbers,
            "amounts": claims.claimed_amounts,
            "language": claims.language,
            "items": getattr(claims, "items", []),
            "return_facts": facts,
            "claim": claim,
        },
        "claim": claim,
        "order": trace.call("get_order", lambda: tools.get_order(order), {"order": order.number})
        if order
        else None,
        "shipments": trace.call(
            "get_tracking", lambda: tools.get_tracking(order), {"order": order.number}
        )
        if order
        else [],
        "customer": trace.call(
            "get_customer_history",
            lambda: tools.get_customer_history(contact, customer, known),
            {"email": contact.customer_email},
        ),
    }
    if order is not None and planner.uses_policy(intent, facts["reason"]):
        evidence["returns"] = trace.call(
            "evaluate_return",
            lambda: tools.evaluate_order_returns(
                tenant,
                order,
                condition=facts["condition"],
                reason=facts["reason"],
                items=getattr(claims, "items", []),
            ),
            {**facts, "order": order.number},
        )
    signals: list[risk.Signal] = []

    def assess() -> list[dict[str, str]]:
        signals.extend(
            risk.assess(
                tenant, order=order, customer=customer, contact=contact, claim=claim, facts=known
            )
        )
        return risk.as_evidence(signals)

    evidence["risk"] = trace.call("risk_signals", assess, {"claim": claim})
    return evidence, signals


@shared_task(name="agents.run_policy_backtest", soft_time_limit=600, time_limit=900)
def run_policy_backtest(*, backtest_id: int) -> str:
    """Run one policy backtest; a finished backtest is left as it is."""
    from agents.policy.backtest import execute

    return execute(backtest_id).status


@shared_task(
    name="agents.run_simulation",
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    max_retries=5,
    soft_time_limit=300,
    time_limit=360,
)
def run_simulation(*, simulation_id: int, offset: int = 0) -> str:
    """Run one batch of an onboarding simulation; it queues the next one itself.

    Safe to run twice: only the batch starting where the count stands runs (under
    the simulation's row lock), so a duplicate finds nothing to do."""
    from agents.simulator.actions import fail_simulation, run_batch

    try:
        return run_batch(simulation_id, offset)
    except OperationalError:
        raise
    except Exception as exc:
        fail_simulation(simulation_id, f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="agents.apply_retention", soft_time_limit=1800, time_limit=1900)
def apply_retention() -> dict:
    """Nightly: anonymise and blank what is past each merchant's retention window.
    Batches are claimed with SKIP LOCKED, so overlapping runs do no harm. Routed
    to the sla queue (settings), not the agents' one."""
    from agents.retention import apply_retention as run

    return run()
