"""Tallies while a simulation runs, and the summary the account manager reads:
deflection against the floor, why cases went to a human, and the month's bill
at the proposed prices against the legacy cost per contact."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from desk.models import Intent

# What a legacy contact centre costs per contact (the product's headline baseline).
LEGACY_COST_PER_CONTACT = Decimal("6.20")
DAYS_PER_MONTH = Decimal("30.44")  # 365.25 / 12
SAMPLE_ROWS = 20
REASON_TITLES = {
    "action_needed": "Planner asked for a human",
    "kind_allowed": "Action not allowed alone",
    "confidence": "Low confidence",
    "not_vip": "VIP customer",
    "order_belongs_to_customer": "Order not the writer's",
    "reply_grounded": "Reply not backed by data",
    "no_risk_flags": "Risk signal",
    "policy_allows": "Returns policy says review",
    "order_known": "Order not found",
    "within_remainder": "Above refundable remainder",
    "within_auto_limit": "Above auto-refund limit",
    "amount_from_system": "Amount not from system data",
    "daily_cap": "Daily auto-refund cap",
    "not_shipped": "Already shipped",
    "delivered": "Not delivered yet",
    "not_done_before": "Already done before",
    "address_checked": "Address not verified",
    "agent_error": "Agent error",
    "no_proposal": "No proposal",
}


# When the planner itself asks for a human (the "action_needed" verdict), its
# rationale says why; these wordings group the most common ones. Wording not
# listed here stays under "Planner asked for a human".
PLANNER_REASONS = (
    ("Returns policy says", "policy_decision", "Returns policy needs a person"),
    ("a delivery problem needs", "delivery_problem", "Delivery problem"),
    ("no automatic action for this intent", "intent_not_automated", "Intent not automated"),
    ("No order could be matched", "order_not_found", "Order not found"),
    ("after the order shipped", "already_shipped", "Already shipped"),
    ("after shipping", "already_shipped", "Already shipped"),
    ("no shipment or tracking is known", "no_tracking", "No tracking known"),
    ("Nothing left to refund", "nothing_to_refund", "Nothing left to refund"),
)
REASON_TITLES.update({key: title for _, key, title in PLANNER_REASONS})


def reason_key(guardrail: str, detail: str) -> str:
    """The reason a case went to a human: the first failed guardrail, or for the
    planner's own "needs a human", the kind of case it named."""
    if guardrail == "action_needed":
        for wording, key, _ in PLANNER_REASONS:
            if wording in detail:
                return key
    return guardrail


def empty_tally() -> dict[str, Any]:
    return {"tickets": 0, "ai": 0, "human": 0, "intents": {}, "reasons": {}, "samples": []}


def add(tally: dict[str, Any], outcome: dict[str, Any]) -> None:
    """Count one ticket's outcome (see replay.outcome) into ``tally``."""
    by = outcome["by"]
    tally["tickets"] += 1
    tally[by] += 1
    per_intent = tally["intents"].setdefault(outcome["intent"], {"ai": 0, "human": 0})
    per_intent[by] += 1
    if by == "human":
        key = reason_key(outcome["reason"], outcome["detail"])
        tally["reasons"][key] = tally["reasons"].get(key, 0) + 1
    if len(tally["samples"]) < SAMPLE_ROWS:
        tally["samples"].append(outcome)


def monthly_volume(
    tickets: int, first: date | None, last: date | None, given: int | None
) -> tuple[int, str]:
    """Contacts a month and how that figure was reached.

    The account manager's own figure wins; else the file's volume is scaled by
    its span of calendar days; a file without dates counts as one month."""
    if given:
        return given, "as entered"
    if first and last:
        days = (last - first).days + 1
        volume = (Decimal(tickets) * DAYS_PER_MONTH / days).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
        return int(volume), f"{tickets:,} tickets over {days} day{'s' if days != 1 else ''}"
    return tickets, "the file taken as one month (no dates in it)"


def _bars(counts: dict[str, int], titles: dict[str, str]) -> list[dict[str, Any]]:
    """Rows for a bar chart, largest first, each with its share of the largest bar."""
    top = max(counts.values(), default=0)
    return [
        {
            "key": key,
            "label": titles.get(key, key.replace("_", " ").capitalize()),
            "count": n,
            "width": round(100 * n / top) if top else 0,
        }
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def summarise(
    tally: dict[str, Any],
    *,
    ai_price: Decimal,
    human_price: Decimal,
    floor: Decimal,
    first: date | None,
    last: date | None,
    given_volume: int | None,
) -> dict[str, Any]:
    """The results page's figures; money as strings with two decimals."""
    tickets = tally["tickets"]
    deflection = Decimal(tally["ai"]) / tickets if tickets else Decimal("0")
    volume, basis = monthly_volume(tickets, first, last, given_volume)
    ai_month = int((volume * deflection).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    human_month = volume - ai_month
    price = ai_month * ai_price + human_month * human_price
    legacy = volume * LEGACY_COST_PER_CONTACT
    intent_titles = dict(Intent.choices)
    intents = _bars({k: v["ai"] + v["human"] for k, v in tally["intents"].items()}, intent_titles)
    for bar in intents:
        split = tally["intents"][bar["key"]]
        bar["ai"], bar["human"] = split["ai"], split["human"]
        bar["ai_width"] = round(bar["width"] * split["ai"] / bar["count"]) if bar["count"] else 0
        bar["human_width"] = bar["width"] - bar["ai_width"]
    return {
        "tickets": tickets,
        "ai": tally["ai"],
        "human": tally["human"],
        "deflection_percent": f"{100 * deflection:.1f}",
        "floor_percent": f"{100 * floor:.1f}",
        "meets_floor": deflection >= floor,
        "reasons": _bars(tally["reasons"], REASON_TITLES),
        "intents": intents,
        "samples": tally["samples"],
        "month": {
            "volume": volume,
            "basis": basis,
            "ai": ai_month,
            "human": human_month,
            "price": f"{price:.2f}",
            "per_contact": f"{price / volume:.2f}" if volume else "0.00",
            "legacy": f"{legacy:.2f}",
            "saving": f"{legacy - price:.2f}",
            "saving_percent": f"{100 * (legacy - price) / legacy:.1f}" if legacy else "0.0",
        },
    }
