"""Version diffs: added, removed, changed and moved rules."""

from __future__ import annotations

from agents.policy.diff import RuleChange, diff_documents


def _rule(rid: str, outcome: str = "refund") -> dict:
    return {"id": rid, "then": {"outcome": outcome}}


def test_diff_names_each_kind_of_change():
    old = {"format": 1, "rules": [_rule("a"), _rule("b"), _rule("c"), _rule("d")]}
    new = {
        "format": 1,
        "default": {"outcome": "reject"},
        "rules": [_rule("b"), _rule("a"), _rule("new"), _rule("c", "reject")],
    }
    result = diff_documents(old, new)
    assert result["settings"] == ["default"]
    assert result["rules"] == [
        RuleChange("b", "moved", 2, 1),
        RuleChange("a", "moved", 1, 2),
        RuleChange("new", "added", new_position=3),
        RuleChange("c", "changed", 3, 4, ("then.outcome",)),
        RuleChange("d", "removed", old_position=4),
    ]


def test_an_insertion_above_does_not_count_as_a_move():
    old = {"format": 1, "rules": [_rule("a"), _rule("b")]}
    new = {"format": 1, "rules": [_rule("x"), _rule("a"), _rule("b")]}
    assert diff_documents(old, new)["rules"] == [RuleChange("x", "added", new_position=1)]


def test_identical_documents_have_no_changes():
    doc = {"format": 1, "rules": [_rule("a")]}
    assert diff_documents(doc, doc) == {"settings": [], "rules": []}
