"""The agent's tools: read-only views of system data, shaped as JSON evidence.

Everything returned here comes from systems (the store mirror, carriers, our
own history), never from the customer's text."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Sum, sql
from django.utils import timezone

from agents import risk, telemetry
from agents.models import AgentRun, ToolCall
from agents.policy.engine import FactsError
from agents.policy.tool import evaluate_return
from desk.models import Contact
from integrations.models import Customer, Order, OrderLine, Refund, Shipment, TrackingEvent
from tenants.models import Tenant


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def get_order(order: Order) -> dict[str, Any]:
    lines = list(order.lines.all())
    refunded = order.refunded_total
    return {
        "number": order.number,
        "placed_at": order.placed_at.isoformat(),
        "currency": order.currency,
        "total": _money(order.total),
        "refunded": _money(refunded),
        "refundable_remainder": _money(max(order.total - refunded, Decimal("0"))),
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "lines": [
            {
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "is_final_sale": line.is_final_sale,
            }
            for line in lines
        ],
        "is_cancelled": order.cancelled_at is not None,
        "returns": get_returns(order),
        # Written by the customer at checkout: untrusted text, never instructions.
        "customer_note": str((order.raw or {}).get("note") or "")[:500]
        if isinstance(order.raw, dict)
        else "",
    }


def get_returns(order: Order) -> list[dict[str, Any]]:
    """Returns opened for the order, on the store or in a returns platform (Loop,
    AfterShip Returns), so a "where is my refund for the return?" has an answer."""
    return [
        {
            "reference": r.reference or r.external_id,
            "status": r.status,
            "status_label": r.get_status_display(),
            "platform_status": r.provider_status,
            "resolution": r.resolution,
            "items": [
                {"sku": line.get("sku"), "quantity": line.get("quantity")}
                for line in r.lines
                if isinstance(line, dict)
            ],
            "label_carrier": r.label_carrier,
            "label_tracking_number": r.label_tracking_number,
            "opened_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat(),
        }
        for r in order.returns.order_by("created_at")
    ]


# What the tracking tool shows of a scan. Not the carrier's raw event, kept for
# audit and remapping: parsed as JSON for nothing on every contact about the order.
_SCAN_FIELDS = ("shipment_id", "occurred_at", "status", "description", "city", "region", "country")


def get_tracking(order: Order) -> list[dict[str, Any]]:
    shipments = (
        Shipment.objects.filter(order=order)
        .prefetch_related(Prefetch("events", queryset=TrackingEvent.objects.only(*_SCAN_FIELDS)))
        .order_by("created_at")
    )
    return [
        {
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "status": s.status,
            "status_label": s.get_status_display(),
            "substatus": s.substatus,
            "estimated_delivery": s.estimated_delivery.isoformat()
            if s.estimated_delivery
            else None,
            "last_event_at": s.last_event_at.isoformat() if s.last_event_at else None,
            "events": [
                {
                    "occurred_at": e.occurred_at.isoformat(),
                    "status": e.status,
                    "description": e.description,
                    "location": e.location,
                }
                for e in s.events.all()[:20]
            ],
        }
        for s in shipments
    ]


def get_customer_history(
    contact: Contact, customer: Customer | None, facts: risk.CustomerFacts | None = None
) -> dict[str, Any]:
    """The customer's past with the merchant. ``facts`` are their counts if the caller
    has just read them for the contact's address; otherwise they are read here."""
    email = contact.customer_email
    base = {
        "email": email,
        "name": (customer.name if customer else contact.customer_name) or "",
        "is_vip": bool(customer and customer.is_vip),
    }
    if email:
        facts = facts or risk.customer_facts(contact.tenant, email, besides_contact=contact.pk)
        return {
            **base,
            "orders": facts.orders,
            "contacts_90d": facts.contacts_90d,
            "contacts_90d_or_more": facts.contacts_90d >= risk.CONTACTS_COUNTED,
            "refunds_90d": facts.refunds_90d,
            "refunded_90d": _money(facts.refunded_90d),
        }
    # Someone known only by phone (SMS, WhatsApp): a blank address is everyone's, so
    # their history is what is tied to them.
    since = timezone.now() - timezone.timedelta(days=risk.HISTORY_DAYS)
    contacts = Contact.objects.filter(tenant=contact.tenant, customer=customer).exclude(
        pk=contact.pk
    )
    refunds = Refund.objects.filter(tenant=contact.tenant, order__customer=customer)
    if customer is None:
        contacts, refunds = contacts.none(), refunds.none()
    recent_refunds = refunds.filter(created_at__gte=since).aggregate(n=Count("id"), s=Sum("amount"))
    earlier = contacts.filter(created_at__gte=since)[: risk.CONTACTS_COUNTED].count()
    return {
        **base,
        "orders": 0,
        "contacts_90d": earlier,
        "contacts_90d_or_more": earlier >= risk.CONTACTS_COUNTED,
        "refunds_90d": recent_refunds["n"],
        "refunded_90d": _money(recent_refunds["s"]) or "0.00",
    }


# --- returns policy -------------------------------------------------------------------

# What a customer says about why and in what state an item comes back. Only
# clear statements count: anything vague stays unknown and the policy's review
# path (a human) decides, so a guess never earns a refund.
_REASONS = (
    (
        "wrong_item",
        r"wrong (item|product|colou?r|model|one)|not what i ordered|sent me (a|the) "
        r"(different|wrong)|received (a|the) (different|wrong)|instead of (the|my)",
    ),
    (
        "damaged_in_transit",
        r"(arrived|came|delivered|box|parcel|package)[^.!?]{0,40}"
        r"(damaged|broken|smashed|cracked|crushed|shattered|dented)|(damaged|broken|smashed|"
        r"cracked|crushed|shattered|dented)[^.!?]{0,30}(arrival|arrived|in transit|in the post|box)",
    ),
    (
        "defective",
        r"defective|faulty|doesn'?t work|does not work|stopped working|won'?t (turn|switch|"
        r"charge|power)|not working|malfunction|dead on arrival|keeps (crashing|turning off)",
    ),
    (
        "wrong_size",
        r"too (small|big|large|tight|loose|short|long)|wrong size|doesn'?t fit|does not "
        r"fit|didn'?t fit|size (is|was) (off|wrong)|need a (bigger|smaller) size",
    ),
    (
        "not_as_described",
        r"not as described|looks (nothing|different)|different from the "
        r"(picture|photo|description)|not like the (picture|photo)",
    ),
    ("arrived_late", r"arrived (too )?late|came too late|after the (event|wedding|birthday)"),
    (
        "changed_mind",
        r"changed my mind|don'?t (need|want|like) it|no longer (need|want)|"
        r"don'?t need (them|this)|not for me",
    ),
)
_CONDITIONS = (
    (
        "unopened",
        r"unopened|never opened|still sealed|sealed|unused|never used|not (been )?opened|"
        r"tags (still )?(on|attached)|with (the )?tags|never worn|unworn|not worn|brand new|original "
        r"packaging",
    ),
    ("worn", r"\bworn\b|wore (it|them)|washed|used (it|them) (a few|several|for)"),
    ("opened", r"opened|tried (it|them) on|took (it|them) out"),
)
_REASON_RES = [(name, re.compile(rx, re.IGNORECASE)) for name, rx in _REASONS]
_CONDITION_RES = [(name, re.compile(rx, re.IGNORECASE)) for name, rx in _CONDITIONS]
# A fault we caused settles the item's condition too.
_CONDITION_FROM_REASON = {
    "defective": "defective",
    "damaged_in_transit": "damaged",
    "wrong_item": "opened",
    "not_as_described": "opened",
}


def return_facts_from_text(text: str) -> dict[str, str | None]:
    """Reason and condition as the customer states them, or None when unclear."""
    reason = next((name for name, rx in _REASON_RES if rx.search(text or "")), None)
    condition = _CONDITION_FROM_REASON.get(reason or "")
    if condition is None:
        # When the customer says several things ("tried it on, tags still on"), the least
        # generous one counts. "never worn" mentions worn, so those phrases go first.
        conditions = dict(_CONDITION_RES)
        unopened = conditions["unopened"].search(text or "")
        rest = conditions["unopened"].sub(" ", text or "")
        if conditions["worn"].search(rest):
            condition = "worn"
        elif conditions["opened"].search(rest):
            condition = "opened"
        elif unopened:
            condition = "unopened"
    return {"reason": reason, "condition": condition}


def _lines_in_question(order: Order, items: list[str]) -> list[OrderLine]:
    """The lines the customer talks about: those whose title or SKU they name, else all."""
    lines = list(order.lines.all())
    named = [
        line
        for line in lines
        if any(
            item.lower() in line.title.lower() or item.lower() == line.sku.lower()
            for item in items
            if len(item) >= 3
        )
    ]
    return named or lines


def evaluate_order_returns(
    tenant: Tenant,
    order: Order,
    *,
    condition: str | None,
    reason: str | None,
    items: list[str] | None = None,
    today=None,
) -> list[dict[str, Any]]:
    """The policy decision for each line in question. An unknown reason or condition
    is not guessed: the line gets the review outcome with what is missing."""
    decisions = []
    for line in _lines_in_question(order, items or []):
        base = {
            "sku": line.sku,
            "title": line.title,
            "quantity": line.quantity,
            "condition": condition,
            "reason": reason,
        }
        if not condition or not reason:
            missing = " and ".join(
                n for n, v in (("reason", reason), ("condition", condition)) if not v
            )
            decisions.append(
                {
                    **base,
                    "outcome": "review",
                    "rule_id": None,
                    "policy_version": None,
                    "currency": order.currency,
                    "message": f"The customer did not make the {missing} clear; a specialist "
                    "confirms before the policy is applied.",
                    "path": [],
                }
            )
            continue
        try:
            decision = evaluate_return(
                tenant, line, condition=condition, reason=reason, today=today
            )
        except (FactsError, ValueError) as exc:
            decision = {
                "outcome": "review",
                "rule_id": None,
                "policy_version": None,
                "currency": order.currency,
                "message": f"The policy could not evaluate this line: {exc}",
                "path": [],
            }
        decisions.append({**base, **decision})
    return decisions


# --- traces -------------------------------------------------------------------------


def tool_span(name: str):
    """The OpenTelemetry span of one tool the agent runs (a no-op unless configured)."""
    return telemetry.tracer().start_as_current_span(
        f"execute_tool {name}",
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name},
    )


class Trace:
    """Collects the tool calls of one run and stores them as ToolCall rows in one insert."""

    def __init__(self, run: AgentRun):
        self.run = run
        self.calls: list[ToolCall] = []

    def call(
        self, name: str, fn: Callable[[], Any], arguments: dict[str, Any] | None = None
    ) -> Any:
        """Run ``fn`` and record it; an exception is recorded, then raised again."""
        with tool_span(name):
            started = time.perf_counter()
            try:
                result = fn()
            except Exception as exc:
                elapsed = (time.perf_counter() - started) * 1000
                self.add(name, arguments, None, elapsed, error=repr(exc))
                raise
            self.add(name, arguments, result, (time.perf_counter() - started) * 1000)
            return result

    def add(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        result: Any,
        latency_ms: float,
        *,
        tokens: int = 0,
        error: str = "",
    ) -> None:
        self.calls.append(
            ToolCall(
                agent_run=self.run,
                name=name[:48],
                arguments=arguments or {},
                result=result
                if isinstance(result, dict | list) or result is None
                else {"value": result},
                latency_ms=round(latency_ms, 3),
                tokens=tokens,
                error=error,
            )
        )
        self.run.steps.append(
            {"tool": name, "ms": round(latency_ms, 1), **({"error": error} if error else {})}
        )

    def save(self) -> None:
        if self.calls:
            ToolCall.objects.bulk_create(self.calls)
            self.calls = []

    def save_with_run(self) -> None:
        """Insert the run, not yet saved, and its tool calls in one statement: a
        rule-planned run is written once, as it ends, and this is every contact's
        last write. The run's columns are prepared by Django's own insert compiler."""
        run = self.run
        if run.pk is not None or not self.calls:
            run.save()
            self.save()
            return
        insert = sql.InsertQuery(AgentRun)
        insert.insert_values(
            [f for f in AgentRun._meta.concrete_fields if not f.primary_key], [run]
        )
        [(run_sql, run_params)] = insert.get_compiler(connection=connection).as_sql()
        calls = json.dumps(
            [
                {
                    "name": c.name,
                    "arguments": c.arguments,
                    "result": c.result,
                    "latency_ms": c.latency_ms,
                    "tokens": c.tokens,
                    "error": c.error,
                    "created_at": c.created_at.isoformat(),
                }
                for c in self.calls
            ]
        )
        with connection.cursor() as cursor:
            # Only the compiler's SQL is inlined; every value is a parameter.
            cursor.execute(
                f"""
                WITH run AS ({run_sql} RETURNING id)
                INSERT INTO agents_toolcall
                    (agent_run_id, name, arguments, result, latency_ms, tokens, error, created_at)
                SELECT run.id, c.name, c.arguments, c.result, c.latency_ms, c.tokens, c.error,
                       c.created_at
                  FROM run, jsonb_to_recordset(%s::jsonb) AS c(
                       name text, arguments jsonb, result jsonb, latency_ms float8,
                       tokens integer, error text, created_at timestamptz)
                RETURNING agent_run_id
                """,  # noqa: S608
                [*run_params, calls],
            )
            run.pk = cursor.fetchone()[0]
        run._state.adding = False
        self.calls = []
