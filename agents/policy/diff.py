"""What changed between two policy versions, rule by rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RuleChange:
    """One rule that differs: added, removed, changed (fields listed) or only moved."""

    rule_id: str
    kind: str  # added, removed, changed, moved
    old_position: int | None = None
    new_position: int | None = None
    fields: tuple[str, ...] = field(default_factory=tuple)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flatten(inner, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Policy-level settings that changed, and every rule that was added, removed, edited or
    moved. Positions are 1-based, as an author counts them."""
    settings = [
        key for key in ("name", "merchant_fault_reasons", "default") if old.get(key) != new.get(key)
    ]
    old_rules = {r["id"]: (i + 1, r) for i, r in enumerate(old.get("rules", []))}
    new_rules = {r["id"]: (i + 1, r) for i, r in enumerate(new.get("rules", []))}
    changes: list[RuleChange] = []
    for rid, (pos, rule) in new_rules.items():
        if rid not in old_rules:
            changes.append(RuleChange(rid, "added", new_position=pos))
            continue
        old_pos, old_rule = old_rules[rid]
        before, after = _flatten(old_rule), _flatten(rule)
        fields = tuple(
            sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        )
        if fields:
            changes.append(RuleChange(rid, "changed", old_pos, pos, fields))
        elif _order_changed(rid, old_rules, new_rules):
            changes.append(RuleChange(rid, "moved", old_pos, pos))
    for rid, (pos, _) in old_rules.items():
        if rid not in new_rules:
            changes.append(RuleChange(rid, "removed", old_position=pos))
    changes.sort(key=lambda c: (c.new_position or c.old_position or 0, c.kind))
    return {"settings": settings, "rules": changes}


def _order_changed(rid: str, old_rules: dict, new_rules: dict) -> bool:
    """Whether the rules both versions share come before ``rid`` in a different order: that is
    what changes a decision, not a shift caused by an insertion above."""
    shared = [r for r in old_rules if r in new_rules]
    old_before = shared[: shared.index(rid)]
    shared_new = sorted(shared, key=lambda r: new_rules[r][0])
    new_before = shared_new[: shared_new.index(rid)]
    return set(old_before) != set(new_before)
