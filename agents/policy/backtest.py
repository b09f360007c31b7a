"""Backtest: run a draft policy over the last N days of real return cases and
show what would change against the version in force — decisions, refund money,
cases the agent could close alone, and the bill at contract prices."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from agents.policy.cache import compile_version
from agents.policy.engine import CompiledPolicy, FactsError
from agents.policy.models import PolicyBacktest, PolicyVersion
from agents.policy.schema import CONDITIONS, REASONS
from agents.policy.tool import line_facts
from billing.actions import NoContract, contract_in_force
from desk.models import Contact, Intent, Proposal
from integrations.models import OrderLine, Shipment

RETURN_INTENTS = (Intent.RETURN_REQUEST, Intent.REPLACEMENT_REQUEST, Intent.REFUND_REQUEST)
# What a human must decide; every other outcome the agent can carry out or answer alone.
NEEDS_HUMAN = {"review"}
PROGRESS_EVERY = 1000
BATCH = 2000


def cases(backtest: PolicyBacktest):
    since = timezone.now() - timedelta(days=backtest.days)
    return (
        Contact.objects.filter(
            tenant=backtest.tenant,
            intent__in=RETURN_INTENTS,
            created_at__gte=since,
            order__isnull=False,
        )
        .select_related("order__customer")
        .prefetch_related(
            Prefetch("order__lines", queryset=OrderLine.objects.order_by("pk")),
            Prefetch("order__shipments", queryset=Shipment.objects.order_by("pk")),
            Prefetch(
                "proposals",
                queryset=Proposal.objects.order_by("-created_at"),
                to_attr="proposal_list",
            ),
        )
        .order_by("pk")
    )


def _said(contact: Contact) -> tuple[str, str]:
    """The reason and condition the agent understood, or the most common ones."""
    for proposal in getattr(contact, "proposal_list", []):
        for line in (proposal.evidence or {}).get("returns") or []:
            reason, condition = line.get("reason"), line.get("condition")
            if reason in REASONS and condition in CONDITIONS:
                return reason, condition
    return "changed_mind", "unopened"


def _evaluate(policy: CompiledPolicy | None, facts, as_of) -> tuple[str, str | None, Decimal]:
    if policy is None:
        return "review", None, Decimal("0")
    decision = policy.evaluate(facts, as_of)
    return decision.outcome, decision.rule_id, decision.refund


def run(backtest: PolicyBacktest) -> dict[str, Any]:
    """Evaluate every line of every case with both versions; store progress as it goes."""
    tenant = backtest.tenant
    draft = compile_version(backtest.draft, tenant)
    baseline = backtest.baseline
    base = compile_version(baseline, tenant) if baseline else None
    try:
        contract = contract_in_force(tenant, timezone.now())
        prices = {"ai": contract.ai_resolution_price, "human": contract.human_resolution_price}
        currency = contract.currency
    except NoContract:
        prices, currency = {"ai": Decimal("0"), "human": Decimal("0")}, tenant.currency
    queryset = cases(backtest)
    PolicyBacktest.objects.filter(pk=backtest.pk).update(
        status=PolicyBacktest.Status.RUNNING, total=queryset.count(), done=0
    )
    outcomes = {"published": Counter(), "draft": Counter()}
    refunds = {"published": Decimal("0"), "draft": Decimal("0")}
    human = {"published": 0, "draft": 0}
    lines = changed = done = skipped = 0
    examples: list[dict[str, Any]] = []
    for contact in queryset.iterator(chunk_size=BATCH):
        reason, condition = _said(contact)
        case_human = {"published": False, "draft": False}
        for line in contact.order.lines.all():
            try:
                facts = line_facts(line, condition=condition, reason=reason)
            except FactsError:
                skipped += 1
                continue
            lines += 1
            old = _evaluate(base, facts, contact.created_at)
            new = _evaluate(draft, facts, contact.created_at)
            for side, (outcome, _, refund) in (("published", old), ("draft", new)):
                outcomes[side][outcome] += 1
                refunds[side] += refund
                case_human[side] |= outcome in NEEDS_HUMAN
            if old[0] != new[0] or old[2] != new[2]:
                changed += 1
                if len(examples) < 25:
                    examples.append(
                        {
                            "contact": str(contact.public_id),
                            "sku": line.sku,
                            "before": {
                                "outcome": old[0],
                                "rule": old[1],
                                "refund": f"{old[2]:.2f}",
                            },
                            "after": {"outcome": new[0], "rule": new[1], "refund": f"{new[2]:.2f}"},
                        }
                    )
        for side in human:
            human[side] += case_human[side]
        done += 1
        if done % PROGRESS_EVERY == 0:
            PolicyBacktest.objects.filter(pk=backtest.pk).update(done=done)
    total_cases = done

    def bill(side: str) -> str:
        alone = total_cases - human[side]
        return f"{alone * prices['ai'] + human[side] * prices['human']:.2f}"

    return {
        "cases": total_cases,
        "lines": lines,
        "lines_skipped": skipped,
        "lines_changed": changed,
        "baseline_version": baseline.number if baseline else None,
        "draft_version": backtest.draft.number,
        "outcomes": {side: dict(counter.most_common()) for side, counter in outcomes.items()},
        "refunds": {side: f"{amount:.2f}" for side, amount in refunds.items()},
        "needs_human": human,
        "agent_alone": {side: total_cases - n for side, n in human.items()},
        "billing": {"published": bill("published"), "draft": bill("draft"), "currency": currency},
        "examples": examples,
    }


def start(version: PolicyVersion, *, days: int, user=None) -> PolicyBacktest:
    """Record a backtest and queue it; the page polls its progress."""
    from django.db import transaction

    from desk.celery import app

    backtest = PolicyBacktest.objects.create(
        tenant=version.policy.tenant,
        draft=version,
        baseline=version.policy.current(),
        days=days,
        created_by=user,
    )
    transaction.on_commit(
        lambda: app.send_task("agents.run_policy_backtest", kwargs={"backtest_id": backtest.pk})
    )
    return backtest


def execute(backtest_id: int) -> PolicyBacktest:
    """Run a queued backtest (the Celery task's body). Safe to run twice: a finished one is left alone."""
    backtest = PolicyBacktest.objects.select_related("tenant", "draft__policy", "baseline").get(
        pk=backtest_id
    )
    if backtest.status == PolicyBacktest.Status.DONE:
        return backtest
    try:
        result = run(backtest)
    except Exception as exc:
        PolicyBacktest.objects.filter(pk=backtest.pk).update(
            status=PolicyBacktest.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )
        raise
    PolicyBacktest.objects.filter(pk=backtest.pk).update(
        status=PolicyBacktest.Status.DONE,
        result=result,
        done=result["cases"],
        finished_at=timezone.now(),
    )
    backtest.refresh_from_db()
    return backtest
