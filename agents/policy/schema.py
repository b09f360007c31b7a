"""The returns-policy file format: JSON Schema, parsing and error messages.

A policy file is YAML (or JSON, which YAML reads too). The schema catches shape
errors; ``validate_document`` adds the checks a schema cannot express (unique
rule ids, real calendar days, outcome-specific settings). Every error names the
rule and the field, because the person fixing it is reading a 60-rule file.
See docs/returns-policy.md for the format in prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml
from jsonschema import Draft202012Validator

FORMAT_VERSION = 1

OUTCOMES = (
    "refund",
    "store_credit",
    "exchange",
    "replacement",
    "keep_item_refund",
    "reject",
    "review",
)
CONDITIONS = ("unopened", "opened", "worn", "damaged", "defective")
REASONS = (
    "changed_mind",
    "wrong_size",
    "defective",
    "damaged_in_transit",
    "not_as_described",
    "arrived_late",
    "wrong_item",
)
WINDOW_STARTS = ("delivered", "fulfilled", "ordered")
# Reasons where the merchant, not the customer, caused the return: no fees.
DEFAULT_MERCHANT_FAULT_REASONS = (
    "defective",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item",
)

_MONEY = {
    "oneOf": [
        {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
        {"type": "number", "minimum": 0},
    ]
}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_MONTH_DAY = {"type": "string", "pattern": r"^\d{2}-\d{2}$"}

_WHEN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "sku": _STRINGS,
        "product_type": _STRINGS,
        "tags": _STRINGS,
        "price": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {"min": _MONEY, "max": _MONEY},
        },
        "sales_channel": _STRINGS,
        "country": _STRINGS,
        "country_not": _STRINGS,
        "vip": {"type": "boolean"},
        "days_since": {
            "type": "object",
            "additionalProperties": False,
            "required": ["from"],
            "minProperties": 2,
            "properties": {
                "from": {"enum": list(WINDOW_STARTS)},
                "min": {"type": "integer", "minimum": 0},
                "max": {"type": "integer", "minimum": 0},
            },
        },
        "holiday": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ordered_from", "ordered_to", "returnable_until"],
            "properties": {
                "ordered_from": _MONTH_DAY,
                "ordered_to": _MONTH_DAY,
                "returnable_until": _MONTH_DAY,
            },
        },
        "condition": {"type": "array", "items": {"enum": list(CONDITIONS)}, "minItems": 1},
        "reason": {"type": "array", "items": {"enum": list(REASONS)}, "minItems": 1},
        "final_sale": {"type": "boolean"},
        "hygiene": {"type": "boolean"},
        "gift": {"type": "boolean"},
        "bundle": {"type": "boolean"},
    },
}

_THEN = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome"],
    "properties": {
        "outcome": {"enum": list(OUTCOMES)},
        "message": {"type": "string"},
        "restocking_fee": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "percent": {"type": "number", "minimum": 0, "maximum": 100},
                "flat": _MONEY,
            },
        },
        "return_shipping": {
            "type": "object",
            "additionalProperties": False,
            "required": ["fee"],
            "properties": {"fee": _MONEY, "free_over": _MONEY},
        },
        "label_cost": _MONEY,
        "store_credit_bonus_percent": {"type": "number", "minimum": 0, "maximum": 100},
        "keep_item_max": _MONEY,
    },
}

POLICY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Returns policy",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "rules"],
    "properties": {
        "format": {"const": FORMAT_VERSION},
        "name": {"type": "string"},
        "merchant_fault_reasons": {"type": "array", "items": {"enum": list(REASONS)}},
        "default": {
            "type": "object",
            "additionalProperties": False,
            "required": ["outcome"],
            "properties": {
                "outcome": {"enum": ["reject", "review"]},
                "message": {"type": "string"},
            },
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "then"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,63}$"},
                    "description": {"type": "string"},
                    "when": _WHEN,
                    "then": _THEN,
                },
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(POLICY_SCHEMA)


@dataclass(frozen=True)
class PolicyError:
    """One problem in a policy file, located by rule and field."""

    message: str
    rule: str | None = None
    field: str = ""

    def __str__(self) -> str:
        where = f"rule {self.rule!r}" if self.rule else "policy"
        if self.field:
            where += f", field {self.field}"
        return f"{where}: {self.message}"


class PolicyFormatError(ValueError):
    """A policy file that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[PolicyError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def parse_text(text: str) -> dict[str, Any]:
    """The document in a YAML or JSON policy file, validated."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyFormatError([PolicyError(f"not valid YAML or JSON{where}")]) from exc
    validate_document(document)
    return document


def dump_text(document: dict[str, Any]) -> str:
    """YAML with keys in the schema's order, so exports read like the docs and diff cleanly."""
    return yaml.safe_dump(canonical(document), sort_keys=False, allow_unicode=True, width=100)


def canonical(value: Any, schema: dict[str, Any] = POLICY_SCHEMA) -> Any:
    """``value`` with every mapping's keys in the order the schema lists them.

    PostgreSQL's jsonb keeps keys in its own order; authors expect id, when, then."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        order = {key: i for i, key in enumerate(properties)}
        keys = sorted(value, key=lambda k: (order.get(k, len(order)), k))
        return {k: canonical(value[k], properties.get(k, {})) for k in keys}
    if isinstance(value, list):
        return [canonical(item, schema.get("items", {})) for item in value]
    return value


def validate_document(document: Any) -> None:
    """Raise PolicyFormatError listing every problem in ``document``."""
    if not isinstance(document, dict):
        raise PolicyFormatError([PolicyError("the file must hold a mapping with format and rules")])
    errors = [_schema_error(document, e) for e in _VALIDATOR.iter_errors(document)]
    errors.sort(key=lambda e: (e.rule or "", e.field))
    if not errors:
        errors = _semantic_errors(document)
    if errors:
        raise PolicyFormatError(errors)


def _rule_label(document: dict[str, Any], index: int) -> str:
    rules = document.get("rules")
    rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
    if isinstance(rule, dict) and isinstance(rule.get("id"), str) and rule["id"]:
        return rule["id"]
    return f"#{index + 1}"


def _schema_error(document: dict[str, Any], error) -> PolicyError:
    path = list(error.absolute_path)
    rule = None
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = _rule_label(document, path[1])
        path = path[2:]
    field = ".".join(str(p) for p in path)
    message = error.message
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        field = ".".join(filter(None, [field, extra[0] if extra else ""]))
        message = "unknown field"
    elif error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        field = ".".join(filter(None, [field, missing]))
        message = "is required"
    elif error.validator == "enum":
        message = f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    elif error.validator == "oneOf" and error.schema is _MONEY:
        message = f'{error.instance!r} is not an amount like "12.50"'
    elif error.validator == "pattern" and path and path[-1] == "id":
        message = "rule ids are lower-case letters, digits and dashes"
    return PolicyError(message, rule, field)


def _month_day(value: str) -> tuple[int, int] | None:
    month, day = int(value[:2]), int(value[3:])
    try:
        # 2023 is not a leap year: 29 February would make a window that exists one year in four.
        date(2023, month, day)
    except ValueError:
        return None
    return month, day


def _semantic_errors(document: dict[str, Any]) -> list[PolicyError]:
    errors: list[PolicyError] = []
    seen: set[str] = set()
    for rule in document["rules"]:
        rid = rule["id"]
        if rid == "default":
            errors.append(PolicyError("'default' names the fallback; pick another id", rid, "id"))
        if rid in seen:
            errors.append(PolicyError("is used by an earlier rule", rid, "id"))
        seen.add(rid)
        when, then = rule.get("when", {}), rule["then"]
        holiday = when.get("holiday")
        if holiday:
            for key in ("ordered_from", "ordered_to", "returnable_until"):
                if _month_day(holiday[key]) is None:
                    errors.append(
                        PolicyError(
                            f"{holiday[key]!r} is not a month-day like 11-01",
                            rid,
                            f"when.holiday.{key}",
                        )
                    )
        window = when.get("days_since")
        if window and "min" in window and "max" in window and window["min"] > window["max"]:
            errors.append(PolicyError("min is above max", rid, "when.days_since"))
        price = when.get("price")
        if (
            price
            and "min" in price
            and "max" in price
            and float(price["min"]) >= float(price["max"])
        ):
            errors.append(PolicyError("min must be below max", rid, "when.price"))
        outcome = then["outcome"]
        if outcome == "keep_item_refund" and "keep_item_max" not in then:
            errors.append(
                PolicyError("keep_item_refund needs keep_item_max", rid, "then.keep_item_max")
            )
        if "keep_item_max" in then and outcome != "keep_item_refund":
            errors.append(
                PolicyError("only applies to keep_item_refund", rid, "then.keep_item_max")
            )
        if "store_credit_bonus_percent" in then and outcome != "store_credit":
            errors.append(
                PolicyError("only applies to store_credit", rid, "then.store_credit_bonus_percent")
            )
        fees = ("restocking_fee", "return_shipping")
        for key in fees:
            if key in then and outcome not in ("refund", "store_credit"):
                errors.append(
                    PolicyError(
                        f"fees only apply to refund or store_credit, not {outcome}",
                        rid,
                        f"then.{key}",
                    )
                )
    return errors
