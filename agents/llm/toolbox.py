"""The typed tools the LLM may call, bound to one contact.

Each tool reads system data only, and only for the customer who wrote: asking
for another customer's order returns an error, not the order. The schemas are
what the model sees; ``run`` is what actually happens."""

from __future__ import annotations

from typing import Any

from agents import tools
from agents.policy.engine import FactsError
from agents.policy.schema import CONDITIONS, REASONS
from agents.policy.tool import evaluate_return
from desk.models import Contact, Proposal
from integrations import access as commerce
from integrations.models import Customer, Order

_ORDER_ARG = {
    "type": "object",
    "properties": {
        "order_number": {
            "type": "string",
            "description": "Order number without '#'. Omit for the order already matched.",
        }
    },
    "additionalProperties": False,
}

# The action the model hands back, validated before anything uses it.
PROPOSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "reply", "rationale"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": [k.value for k in Proposal.Kind]},
        "amount": {"type": ["string", "null"], "pattern": r"^\d{1,9}(\.\d{1,2})?$"},
        "amount_source": {"enum": ["order.refundable_remainder", "policy", None]},
        "policy_lines": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["sku", "condition", "reason"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string", "maxLength": 64},
                    "condition": {"enum": list(CONDITIONS)},
                    "reason": {"enum": list(REASONS)},
                },
            },
        },
        "reply": {"type": "string", "maxLength": 2000},
        "rationale": {"type": "string", "maxLength": 2000},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "asks_customer": {"type": "boolean"},
    },
}

SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_order",
            "description": "The order, its lines, totals and refundable remainder, from the store.",
            "parameters": _ORDER_ARG,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_tracking",
            "description": "Shipments of the order with normalized carrier status and scans.",
            "parameters": _ORDER_ARG,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "evaluate_return",
            "description": "The merchant's returns policy decision for one order line.",
            "parameters": {
                "type": "object",
                "required": ["sku", "condition", "reason"],
                "additionalProperties": False,
                "properties": {
                    "sku": {"type": "string"},
                    "condition": {"enum": list(CONDITIONS)},
                    "reason": {"enum": list(REASONS)},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_customer_history",
            "description": "The customer's recent contacts, refunds and VIP status.",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "propose_action",
            "description": "Finish: the one action to take, with the reply to the customer.",
            "parameters": PROPOSAL_SCHEMA,
        },
    },
]


class ToolError(Exception):
    """A tool call the model got wrong; the message goes back to the model."""


class Toolbox:
    def __init__(self, contact: Contact, order: Order | None, customer: Customer | None):
        self.contact = contact
        self.order = order
        self.customer = customer

    def _order(self, arguments: dict[str, Any]) -> Order:
        number = str(arguments.get("order_number") or "").strip()
        if not number or (
            self.order and commerce.normalize_order_number(number) == self.order.number.upper()
        ):
            if self.order is None:
                raise ToolError("No order is matched to this contact; ask the customer.")
            return self.order
        found = commerce.find_order(self.contact.tenant, number)
        email = (self.contact.customer_email or "").lower()
        if found is None or not email or (found.email or "").lower() != email:
            raise ToolError(f"No order {number} for this customer.")
        return found

    def run(self, name: str, arguments: dict[str, Any]) -> Any:
        if name == "get_order":
            return tools.get_order(self._order(arguments))
        if name == "get_tracking":
            return tools.get_tracking(self._order(arguments))
        if name == "get_customer_history":
            return tools.get_customer_history(self.contact, self.customer)
        if name == "evaluate_return":
            order = self._order({})
            line = order.lines.filter(sku=str(arguments.get("sku", ""))).first()
            if line is None:
                raise ToolError(f"No line with SKU {arguments.get('sku')!r} on this order.")
            try:
                return evaluate_return(
                    self.contact.tenant,
                    line,
                    condition=str(arguments.get("condition", "")),
                    reason=str(arguments.get("reason", "")),
                )
            except FactsError as exc:
                raise ToolError(str(exc)) from exc
        raise ToolError(f"Unknown tool {name!r}.")
