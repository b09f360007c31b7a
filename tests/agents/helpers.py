"""Shared set-up for the agent tests: a small published policy and a synchronous run."""

from __future__ import annotations

from decimal import Decimal

from agents.policy.actions import import_policy
from agents.tasks import handle_contact
from desk.actions import ProposalDraft, execute_proposal, submit_proposal
from desk.models import Proposal
from tenants.actor import Actor

SMALL_POLICY = """
format: 1
default: {outcome: review}
rules:
  - id: final-sale
    when: {final_sale: true}
    then: {outcome: reject, message: "Final-sale items cannot be returned."}
  - id: wrong-item
    when: {reason: [wrong_item]}
    then: {outcome: replacement, message: "We'll send the right item."}
  - id: transit-damage-cheap
    when: {reason: [damaged_in_transit]}
    then: {outcome: keep_item_refund, keep_item_max: "30.00", message: "Keep it."}
  - id: transit-damage
    when: {reason: [damaged_in_transit]}
    then: {outcome: replacement, message: "We'll replace it."}
  - id: worn
    when: {condition: [worn]}
    then: {outcome: reject, message: "Worn items cannot be returned."}
  - id: standard-30
    when: {condition: [unopened, opened], days_since: {from: ordered, max: 30}}
    then: {outcome: refund, return_shipping: {fee: "5.00"}, message: "Refund once it is back."}
  - id: credit-90
    when: {condition: [unopened], days_since: {from: ordered, max: 90}}
    then: {outcome: store_credit, message: "Store credit after 30 days."}
"""


def publish_policy(tenant, text: str = SMALL_POLICY):
    version, _ = import_policy(tenant, text, Actor.system("test"), publish=True)
    return version


def run_agent(contact, capture):
    """Run the agent task body, then the execution it queues (as a worker would)."""
    with capture(execute=False):
        handle_contact.run(contact_id=contact.pk)
        for proposal in Proposal.objects.filter(contact=contact, status=Proposal.Status.APPROVED):
            execute_proposal(proposal.pk)
    contact.refresh_from_db()
    return contact


def payout_draft(kind: str, amount: str) -> ProposalDraft:
    return ProposalDraft(
        kind=kind,
        amount=Decimal(amount),
        currency="USD",
        reply_draft="Done.",
        confidence=Decimal("0.9"),
        rationale="",
    )


def agent_paid_out(tenant, kind: str, amount: str, *, contact=None) -> Proposal:
    """Earlier today the agent approved a payout on its own (every guardrail passed)."""
    from tests.factories import make_contact, make_order

    contact = contact or make_contact(tenant, order=make_order(tenant, total=amount))
    draft = payout_draft(kind, amount)
    return submit_proposal(contact, draft, guardrails=[], actor=Actor.agent())


def failed(verdicts) -> list[str]:
    return [v["name"] for v in verdicts if not v["passed"]]


def rows_read(sql: str, params: dict, table: str) -> int:
    """Rows of ``table`` PostgreSQL read to run ``sql``: those a scan returned and
    those it read and filtered out, over all its loops."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node: dict) -> int:
        rows = 0
        if node.get("Relation Name") == table:
            per_loop = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            rows = per_loop * node["Actual Loops"]
        return rows + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])


def analyze(*tables: str) -> None:
    """Statistics taken now, as PostgreSQL last took them before the rows that follow."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
