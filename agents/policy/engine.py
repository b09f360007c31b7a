"""Evaluate one order line against a merchant's ordered return rules.

A policy document is compiled once into plain closures; evaluating a line then
walks the rules in order and stops at the first whose conditions all hold
(first match wins, like a firewall). The result carries the decision, the money,
the deciding rule and the path of rules considered. Explanations for the path
are only rendered when asked for, which keeps the hot loop cheap.

Windows count calendar days in the merchant's time zone: delivered at 23:30 in
New York on 1 March is day 0 until midnight in New York, whatever UTC says.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from agents.policy.money import ZERO, parse_money, quantum, round_money
from agents.policy.schema import (
    CONDITIONS,
    DEFAULT_MERCHANT_FAULT_REASONS,
    REASONS,
    validate_document,
)

HUNDRED = Decimal(100)
DEFAULT_RULE_ID = "default"


class FactsError(ValueError):
    """Order-line facts that cannot be evaluated; names the offending field."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(f"{field_name}: {message}")


Moment = datetime | date | None


@dataclass(slots=True)
class LineFacts:
    """What the engine knows about one order line being returned."""

    sku: str
    unit_price: Decimal
    quantity: int = 1
    product_type: str = ""
    tags: frozenset[str] = frozenset()
    sales_channel: str = "online_store"
    country: str = ""
    is_vip: bool = False
    ordered_at: Moment = None
    fulfilled_at: Moment = None
    delivered_at: Moment = None
    condition: str = ""
    reason: str = ""
    is_final_sale: bool = False
    is_hygiene: bool = False
    is_gift: bool = False
    is_bundle: bool = False
    currency: str = ""


class _Line:
    """Facts normalised for matching: lower-cased text and local calendar days."""

    __slots__ = (
        "as_of",
        "condition",
        "country",
        "days",
        "facts",
        "is_bundle",
        "is_final_sale",
        "is_gift",
        "is_hygiene",
        "is_vip",
        "order_date",
        "product_type",
        "reason",
        "sales_channel",
        "sku",
        "tags",
        "unit_price",
        "value",
    )

    def __init__(self, facts: LineFacts, as_of: date, tz: ZoneInfo, currency: str):
        self.facts = facts
        self.as_of = as_of
        self.sku = facts.sku
        self.product_type = facts.product_type.lower()
        self.tags = frozenset(t.lower() for t in facts.tags)
        self.sales_channel = facts.sales_channel.lower()
        self.country = facts.country.upper()
        self.is_vip = facts.is_vip
        self.condition = facts.condition
        self.reason = facts.reason
        self.is_final_sale = facts.is_final_sale
        self.is_hygiene = facts.is_hygiene
        self.is_gift = facts.is_gift
        self.is_bundle = facts.is_bundle
        self.unit_price = facts.unit_price
        self.value = round_money(facts.unit_price * facts.quantity, currency)
        self.order_date = _local_date(facts.ordered_at, tz)
        self.days = {
            "ordered": _days(self.order_date, as_of),
            "fulfilled": _days(_local_date(facts.fulfilled_at, tz), as_of),
            "delivered": _days(_local_date(facts.delivered_at, tz), as_of),
        }


def _local_date(moment: Moment, tz: ZoneInfo) -> date | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        # A naive timestamp is taken as the merchant's wall-clock time.
        return moment.astimezone(tz).date() if moment.tzinfo else moment.date()
    return moment


def _days(start: date | None, as_of: date) -> int | None:
    return None if start is None else (as_of - start).days


# --- compiled checks ----------------------------------------------------------------


@dataclass(slots=True)
class Check:
    """One condition of a rule: ``test`` is the hot path, ``explain`` only runs on demand."""

    field: str
    test: Callable[[_Line], bool]
    explain: Callable[[_Line], str]


def _one_of(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "one of " + ", ".join(values)


def _memo(explain: Callable[[_Line], str], key: Callable[[_Line], Any]) -> Callable[[_Line], str]:
    """Cache explanations by the one fact they depend on: a path repeats them line after line."""
    cache: dict[Any, str] = {}

    def cached(line: _Line) -> str:
        k = key(line)
        text = cache.get(k)
        if text is None:
            if len(cache) > 4096:
                cache.clear()
            text = cache[k] = explain(line)
        return text

    return cached


def _set_check(name: str, attr: str, values: list[str], fold: Callable[[str], str]) -> Check:
    wanted = frozenset(fold(v) for v in values)
    listed = _one_of(values)

    def test(line: _Line) -> bool:
        return getattr(line, attr) in wanted

    def explain(line: _Line) -> str:
        have = getattr(line, attr) or "(none)"
        verb = "is" if test(line) else "is not"
        return f"{name} {have} {verb} {listed}"

    return Check(name, test, _memo(explain, lambda line: getattr(line, attr)))


def _country_not_check(values: list[str]) -> Check:
    excluded = frozenset(v.upper() for v in values)

    # An unknown destination is not "abroad": without a country the rule cannot tell.
    def test(line: _Line) -> bool:
        return bool(line.country) and line.country not in excluded

    def explain(line: _Line) -> str:
        if not line.country:
            return "country unknown"
        return f"country {line.country} {'is outside' if test(line) else 'is'} {_one_of(values)}"

    return Check("country_not", test, explain)


def _flag_check(name: str, attr: str, wanted: bool) -> Check:
    def test(line: _Line) -> bool:
        return getattr(line, attr) is wanted

    yes, no = f"{name} is yes", f"{name} is no"

    def explain(line: _Line) -> str:
        return yes if getattr(line, attr) else no

    return Check(name, test, explain)


def _sku_check(patterns: list[str]) -> Check:
    regex = re.compile("|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE)
    listed = _one_of(patterns)
    match = regex.match

    def test(line: _Line) -> bool:
        return match(line.sku) is not None

    def explain(line: _Line) -> str:
        verb = "matches" if test(line) else "does not match"
        return f"sku {line.sku} {verb} {listed}"

    return Check("sku", test, _memo(explain, lambda line: line.sku))


def _tags_check(tags: list[str]) -> Check:
    wanted = frozenset(t.lower() for t in tags)
    listed = _one_of(tags)

    def test(line: _Line) -> bool:
        return not wanted.isdisjoint(line.tags)

    def explain(line: _Line) -> str:
        have = ", ".join(sorted(line.tags)) or "none"
        verb = "include" if test(line) else "do not include"
        return f"tags ({have}) {verb} {listed}"

    return Check("tags", test, _memo(explain, lambda line: line.tags))


def _price_check(band: dict[str, Any]) -> Check:
    low = parse_money(band["min"]) if "min" in band else None
    high = parse_money(band["max"]) if "max" in band else None

    def test(line: _Line) -> bool:
        price = line.unit_price
        return (low is None or price >= low) and (high is None or price < high)

    def explain(line: _Line) -> str:
        parts = ([f"at least {low}"] if low is not None else []) + (
            [f"below {high}"] if high is not None else []
        )
        verb = "is" if test(line) else "is not"
        return f"price {line.unit_price} {verb} {' and '.join(parts)}"

    return Check("price", test, _memo(explain, lambda line: line.unit_price))


def _days_check(window: dict[str, Any]) -> Check:
    start = window["from"]
    low = window.get("min")
    high = window.get("max")

    # A start later than today is bad data (a future delivery scan), never "inside".
    floor = low or 0

    def test(line: _Line) -> bool:
        days = line.days[start]
        return days is not None and days >= floor and (high is None or days <= high)

    def explain(line: _Line) -> str:
        days = line.days[start]
        if days is None:
            return f"not {start} yet"
        if days < 0:
            return f"{start} {-days} days after today"
        bounds = []
        if low is not None:
            bounds.append(f"at least {low}")
        if high is not None:
            bounds.append(f"at most {high}")
        verb = "is" if test(line) else "is not"
        return f"{days} days since {start} {verb} {' and '.join(bounds)}"

    return Check("days_since", test, _memo(explain, lambda line: line.days[start]))


def _md(value: str) -> tuple[int, int]:
    return int(value[:2]), int(value[3:])


def holiday_deadline(order_date: date, window: dict[str, str]) -> date | None:
    """Last local day to return an order placed on ``order_date`` under a holiday window, or
    None when the order falls outside it. Windows may wrap the new year (12-15 to 01-05)."""
    start, end, until = (
        _md(window["ordered_from"]),
        _md(window["ordered_to"]),
        _md(window["returnable_until"]),
    )
    md = (order_date.month, order_date.day)
    if start <= end:
        if not start <= md <= end:
            return None
        window_end = date(order_date.year, *end)
    else:
        if not (md >= start or md <= end):
            return None
        window_end = date(order_date.year + (md >= start), *end)
    deadline = date(window_end.year, *until)
    if deadline < window_end:
        deadline = date(window_end.year + 1, *until)
    return deadline


def _holiday_check(window: dict[str, str]) -> Check:
    def deadline(line: _Line) -> date | None:
        return None if line.order_date is None else holiday_deadline(line.order_date, window)

    def test(line: _Line) -> bool:
        last = deadline(line)
        return last is not None and line.as_of <= last

    def explain(line: _Line) -> str:
        span = f"{window['ordered_from']}..{window['ordered_to']}"
        if line.order_date is None:
            return "no order date"
        last = deadline(line)
        if last is None:
            return f"ordered {line.order_date} is outside {span}"
        verb = "is on or before" if line.as_of <= last else "is after"
        return f"ordered {line.order_date} in {span}; today {line.as_of} {verb} {last}"

    return Check("holiday", test, explain)


def _keep_item_check(limit: Decimal) -> Check:
    def test(line: _Line) -> bool:
        return line.value <= limit

    def explain(line: _Line) -> str:
        verb = "is within" if test(line) else "is above"
        return f"line value {line.value} {verb} the keep-the-item limit {limit}"

    return Check("then.keep_item_max", test, explain)


_FLAGS = (
    ("vip", "is_vip"),
    ("final_sale", "is_final_sale"),
    ("hygiene", "is_hygiene"),
    ("gift", "is_gift"),
    ("bundle", "is_bundle"),
)


def compile_checks(when: dict[str, Any], then: dict[str, Any]) -> tuple[Check, ...]:
    """Checks in a fixed order, cheapest and most selective first."""
    checks: list[Check] = []
    for name, attr in _FLAGS:
        if name in when:
            checks.append(_flag_check(name, attr, when[name]))
    if "condition" in when:
        checks.append(_set_check("condition", "condition", when["condition"], str))
    if "reason" in when:
        checks.append(_set_check("reason", "reason", when["reason"], str))
    if "product_type" in when:
        checks.append(_set_check("product_type", "product_type", when["product_type"], str.lower))
    if "sales_channel" in when:
        checks.append(
            _set_check("sales_channel", "sales_channel", when["sales_channel"], str.lower)
        )
    if "country" in when:
        checks.append(_set_check("country", "country", when["country"], str.upper))
    if "country_not" in when:
        checks.append(_country_not_check(when["country_not"]))
    if "sku" in when:
        checks.append(_sku_check(when["sku"]))
    if "tags" in when:
        checks.append(_tags_check(when["tags"]))
    if "price" in when:
        checks.append(_price_check(when["price"]))
    if "days_since" in when:
        checks.append(_days_check(when["days_since"]))
    if "holiday" in when:
        checks.append(_holiday_check(when["holiday"]))
    if then["outcome"] == "keep_item_refund":
        checks.append(_keep_item_check(parse_money(then["keep_item_max"])))
    return tuple(checks)


# --- rules, decisions ----------------------------------------------------------------


@dataclass(slots=True)
class CompiledRule:
    id: str
    description: str
    checks: tuple[Check, ...]
    outcome: str
    message: str
    restock_percent: Decimal
    restock_flat: Decimal
    shipping_fee: Decimal | None
    free_over: Decimal | None
    label_cost: Decimal
    bonus_percent: Decimal


def _compile_rule(rule: dict[str, Any]) -> CompiledRule:
    then = rule["then"]
    restock = then.get("restocking_fee", {})
    shipping = then.get("return_shipping")
    return CompiledRule(
        id=rule["id"],
        description=rule.get("description", ""),
        checks=compile_checks(rule.get("when", {}), then),
        outcome=then["outcome"],
        message=then.get("message", ""),
        restock_percent=parse_money(restock.get("percent", 0)),
        restock_flat=parse_money(restock.get("flat", 0)),
        shipping_fee=parse_money(shipping["fee"]) if shipping else None,
        free_over=parse_money(shipping["free_over"])
        if shipping and "free_over" in shipping
        else None,
        label_cost=parse_money(then.get("label_cost", 0)),
        bonus_percent=parse_money(then.get("store_credit_bonus_percent", 0)),
    )


@dataclass(slots=True)
class Step:
    """One rule on the path: matched, or the first check that failed."""

    rule: CompiledRule
    failed: Check | None


@dataclass(slots=True)
class Decision:
    """What the policy says about one line. Amounts are rounded to the currency's minor unit."""

    outcome: str
    rule_id: str
    policy_version: int | None
    currency: str
    as_of: date
    line_value: Decimal
    restocking_fee: Decimal = ZERO
    return_shipping: str = "none"  # charged, waived, or none when nothing comes back
    return_shipping_fee: Decimal = ZERO
    label_cost: Decimal = ZERO
    refund: Decimal = ZERO
    store_credit: Decimal = ZERO
    store_credit_bonus: Decimal = ZERO
    message: str = ""
    steps: list[Step] = field(default_factory=list)
    line: _Line | None = None

    def path(self) -> list[dict[str, Any]]:
        """Each rule considered, in order, with why it did or didn't match."""
        out = []
        for step in self.steps:
            if step.failed is not None:
                why = step.failed.explain(self.line)
                out.append({"rule_id": step.rule.id, "matched": False, "why": why})
            else:
                reasons = [c.explain(self.line) for c in step.rule.checks]
                why = "; ".join(reasons) if reasons else "applies to every line"
                out.append({"rule_id": step.rule.id, "matched": True, "why": why})
        return out

    def to_dict(self, *, explain: bool = True) -> dict[str, Any]:
        c = self.currency
        q = quantum(c)
        data: dict[str, Any] = {
            "outcome": self.outcome,
            "rule_id": self.rule_id,
            "policy_version": self.policy_version,
            "currency": c,
            "as_of": self.as_of.isoformat(),
            "amounts": {
                "line_value": f"{self.line_value.quantize(q):f}",
                "restocking_fee": f"{self.restocking_fee.quantize(q):f}",
                "return_shipping_fee": f"{self.return_shipping_fee.quantize(q):f}",
                "label_cost": f"{self.label_cost.quantize(q):f}",
                "refund": f"{self.refund.quantize(q):f}",
                "store_credit": f"{self.store_credit.quantize(q):f}",
                "store_credit_bonus": f"{self.store_credit_bonus.quantize(q):f}",
            },
            "return_shipping": self.return_shipping,
            "message": self.message,
        }
        if explain:
            data["path"] = self.path()
        return data


class CompiledPolicy:
    """A validated policy document ready to evaluate lines for one merchant."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        currency: str,
        time_zone: str,
        version: int | None = None,
    ):
        validate_document(document)
        self.document = document
        self.currency = currency.upper()
        self.time_zone = ZoneInfo(time_zone)
        self.version = version
        self.rules = tuple(_compile_rule(r) for r in document["rules"])
        self.merchant_fault = frozenset(
            document.get("merchant_fault_reasons", DEFAULT_MERCHANT_FAULT_REASONS)
        )
        default = document.get("default", {"outcome": "review"})
        self.default_outcome = default["outcome"]
        self.default_message = default.get(
            "message", "No rule covers this return; a specialist will look at it."
        )

    def today(self) -> date:
        return timezone.now().astimezone(self.time_zone).date()

    def evaluate(self, facts: LineFacts, as_of: datetime | date | None = None) -> Decision:
        """Decide one line. Pure: the same facts and ``as_of`` always give the same decision."""
        if facts.currency and facts.currency.upper() != self.currency:
            raise FactsError(
                "currency", f"{facts.currency} does not match the policy currency {self.currency}"
            )
        if facts.unit_price < 0:
            raise FactsError("unit_price", "must not be negative")
        if facts.quantity < 1:
            raise FactsError("quantity", "must be at least 1")
        today = _local_date(as_of, self.time_zone) if as_of is not None else self.today()
        line = _Line(facts, today, self.time_zone, self.currency)
        steps: list[Step] = []
        for rule in self.rules:
            for check in rule.checks:
                if not check.test(line):
                    steps.append(Step(rule, check))
                    break
            else:
                steps.append(Step(rule, None))
                return self._decide(rule, line, steps)
        return Decision(
            outcome=self.default_outcome,
            rule_id=DEFAULT_RULE_ID,
            policy_version=self.version,
            currency=self.currency,
            as_of=today,
            line_value=line.value,
            message=self.default_message,
            steps=steps,
            line=line,
        )

    def _decide(self, rule: CompiledRule, line: _Line, steps: list[Step]) -> Decision:
        currency = self.currency
        value = line.value
        decision = Decision(
            outcome=rule.outcome,
            rule_id=rule.id,
            policy_version=self.version,
            currency=currency,
            as_of=line.as_of,
            line_value=value,
            message=rule.message,
            steps=steps,
            line=line,
        )
        outcome = rule.outcome
        if outcome in ("refund", "store_credit"):
            self._fees(rule, line, decision)
            remainder = value - decision.restocking_fee - decision.return_shipping_fee
            if outcome == "refund":
                decision.refund = remainder
            else:
                bonus = round_money(remainder * rule.bonus_percent / HUNDRED, currency)
                decision.store_credit_bonus = bonus
                decision.store_credit = remainder + bonus
            decision.label_cost = round_money(rule.label_cost, currency)
        elif outcome in ("exchange", "replacement"):
            # The item still comes back, on the merchant's label.
            decision.return_shipping = "waived"
            decision.label_cost = round_money(rule.label_cost, currency)
        elif outcome == "keep_item_refund":
            decision.refund = value
        return decision

    def _fees(self, rule: CompiledRule, line: _Line, decision: Decision) -> None:
        """Restocking and return-shipping fees, never together above the line's value."""
        currency = self.currency
        value = line.value
        if line.reason in self.merchant_fault:
            # The merchant's mistake is never the customer's cost.
            decision.return_shipping = "waived"
            return
        restock = round_money(
            value * rule.restock_percent / HUNDRED + rule.restock_flat * line.facts.quantity,
            currency,
        )
        decision.restocking_fee = min(restock, value)
        if rule.shipping_fee is None or (rule.free_over is not None and value >= rule.free_over):
            decision.return_shipping = "waived"
            return
        decision.return_shipping = "charged"
        shipping = round_money(rule.shipping_fee, currency)
        decision.return_shipping_fee = min(shipping, value - decision.restocking_fee)


# --- facts from JSON -----------------------------------------------------------------

_TEXT_FIELDS = ("product_type", "sales_channel", "country", "currency")
_BOOL_FIELDS = ("is_vip", "is_final_sale", "is_hygiene", "is_gift", "is_bundle")
_MOMENT_FIELDS = ("ordered_at", "fulfilled_at", "delivered_at")


def parse_moment(name: str, value: Any) -> Moment:
    """An ISO date (``2026-03-01``) or date-time (``2026-03-01T23:30:00-05:00``)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FactsError(name, "must be an ISO date or date-time string")
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FactsError(name, f"{value!r} is not an ISO date or date-time") from exc


def facts_from_json(data: Any) -> tuple[LineFacts, Moment]:
    """Line facts (and the optional ``as_of`` moment) from a JSON object, as policy_eval reads
    them. Raises FactsError naming the first bad field."""
    if not isinstance(data, dict):
        raise FactsError("line", "must be a JSON object")
    sku = data.get("sku")
    if not isinstance(sku, str) or not sku:
        raise FactsError("sku", "is required")
    if "unit_price" not in data:
        raise FactsError("unit_price", "is required")
    try:
        price = parse_money(data["unit_price"])
    except ValueError as exc:
        raise FactsError("unit_price", str(exc)) from exc
    quantity = data.get("quantity", 1)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise FactsError("quantity", "must be a whole number of at least 1")
    kwargs: dict[str, Any] = {"sku": sku, "unit_price": price, "quantity": quantity}
    for name in _TEXT_FIELDS:
        if data.get(name) is not None:
            if not isinstance(data[name], str):
                raise FactsError(name, "must be a string")
            kwargs[name] = data[name]
    for name in _BOOL_FIELDS:
        if name in data:
            if not isinstance(data[name], bool):
                raise FactsError(name, "must be true or false")
            kwargs[name] = data[name]
    for name in _MOMENT_FIELDS:
        kwargs[name] = parse_moment(name, data.get(name))
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise FactsError("tags", "must be a list of strings")
    kwargs["tags"] = frozenset(tags)
    for name, allowed in (("condition", CONDITIONS), ("reason", REASONS)):
        value = data.get(name)
        if value is None or value == "":
            continue
        if value not in allowed:
            raise FactsError(name, f"{value!r} is not one of {', '.join(allowed)}")
        kwargs[name] = value
    return LineFacts(**kwargs), parse_moment("as_of", data.get("as_of"))
