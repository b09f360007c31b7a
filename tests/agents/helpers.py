"""Shared set-up for the agent tests: a small published policy and a synchronous run."""

from __future__ import annotations

from agents.policy.actions import import_policy
from agents.tasks import handle_contact
from desk.actions import execute_proposal
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


def failed(verdicts) -> list[str]:
    return [v["name"] for v in verdicts if not v["passed"]]
