"""policy_eval, policy_import and policy_export as a script would drive them."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import CommandError, call_command

from agents.policy.demo import demo_policy_text
from agents.policy.models import PolicyVersion
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind(tmp_path):
    tenant = make_tenant(slug="northwind", currency="USD", time_zone="America/New_York")
    path = tmp_path / "policy.yaml"
    path.write_text(demo_policy_text("northwind"))
    call_command(
        "policy_import", "--tenant", "northwind", str(path), "--publish", stdout=io.StringIO()
    )
    return tenant


def run_eval(monkeypatch, lines: list[str], *args: str) -> list[dict]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    call_command("policy_eval", "--tenant", "northwind", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


BOOTS = {
    "id": "a",
    "sku": "NW-BOOT-10",
    "product_type": "footwear",
    "unit_price": "164.00",
    "condition": "opened",
    "reason": "changed_mind",
    "country": "US",
    "delivered_at": "2026-03-01T12:00:00-05:00",
    "as_of": "2026-03-20",
}


def test_policy_eval_writes_one_line_per_input_and_errors_do_not_stop_it(northwind, monkeypatch):
    lines = [
        json.dumps(BOOTS),
        "{not json",
        json.dumps({"id": "b", "sku": "NW-BOOT-10"}),
        "",
        json.dumps({**BOOTS, "id": "c", "reason": "bored"}),
        json.dumps([1, 2]),
        json.dumps({**BOOTS, "id": "d", "as_of": "2026-04-20"}),
    ]
    out = run_eval(monkeypatch, lines)
    assert [o["line"] for o in out] == [1, 2, 3, 5, 6, 7]
    first = out[0]
    assert (first["id"], first["outcome"], first["rule_id"], first["policy_version"]) == (
        "a",
        "refund",
        "footwear",
        1,
    )
    assert first["currency"] == "USD"
    # Footwear: 9.95 return postage, free from 150.00.
    assert (first["amounts"]["refund"], first["return_shipping"]) == ("164.00", "waived")
    assert "path" not in first
    assert out[1]["error"].startswith("not valid JSON")
    assert (out[2]["id"], out[2]["field"]) == ("b", "unit_price")
    assert (out[3]["id"], out[3]["field"]) == ("c", "reason")
    assert out[4]["field"] == "line"
    assert (out[5]["id"], out[5]["outcome"], out[5]["rule_id"]) == (
        "d",
        "review",
        "late-high-value",
    )


def test_policy_eval_explains_and_picks_a_version(northwind, monkeypatch):
    PolicyVersion.objects.create(
        policy=northwind.returns_policy,
        number=2,
        document={"format": 1, "rules": [{"id": "all", "then": {"outcome": "review"}}]},
    )
    [in_force] = run_eval(monkeypatch, [json.dumps(BOOTS)], "--explain")
    assert in_force["path"][-1] == {
        "rule_id": "footwear",
        "matched": True,
        "why": "condition opened is one of unopened, opened; product_type footwear is footwear; "
        "19 days since delivered is at most 30",
    }
    [draft] = run_eval(monkeypatch, [json.dumps(BOOTS)], "--version", "2")
    assert (draft["outcome"], draft["policy_version"]) == ("review", 2)


def test_policy_eval_as_of_applies_to_lines_without_their_own(northwind, monkeypatch):
    line = {k: v for k, v in BOOTS.items() if k != "as_of"}
    [late] = run_eval(monkeypatch, [json.dumps(line)], "--as-of", "2026-05-30")
    assert late["rule_id"] == "outside-window"


def test_policy_eval_needs_a_policy():
    make_tenant(slug="empty")
    with pytest.raises(CommandError, match="empty has no published policy"):
        call_command("policy_eval", "--tenant", "empty")
    with pytest.raises(CommandError, match="No tenant"):
        call_command("policy_eval", "--tenant", "nobody")


def test_policy_import_reports_every_problem_and_stores_nothing(tmp_path):
    make_tenant(slug="northwind")
    path = tmp_path / "bad.yaml"
    path.write_text(
        "format: 1\nrules:\n  - id: a\n    then: {outcome: nope}\n"
        "  - id: b\n    when: {days_since: {from: delivered, max: -1}}\n    then: {outcome: refund}\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 problem"):
        call_command("policy_import", "--tenant", "northwind", str(path), stderr=err)
    assert err.getvalue().splitlines() == [
        "rule 'a', field then.outcome: 'nope' is not one of refund, store_credit, exchange, "
        "replacement, keep_item_refund, reject, review",
        "rule 'b', field when.days_since.max: -1 is less than the minimum of 0",
    ]
    assert not PolicyVersion.objects.exists()


def test_export_then_import_is_a_no_op(northwind, tmp_path):
    out = io.StringIO()
    call_command("policy_export", "--tenant", "northwind", stdout=out)
    assert out.getvalue().startswith("format: 1\nname: Northwind apparel returns\n")
    path = tmp_path / "exported.yaml"
    path.write_text(out.getvalue())
    again = io.StringIO()
    call_command("policy_import", "--tenant", "northwind", str(path), stdout=again)
    assert "unchanged" in again.getvalue()
    assert PolicyVersion.objects.count() == 1
    as_json = io.StringIO()
    call_command("policy_export", "--tenant", "northwind", "--format", "json", stdout=as_json)
    assert len(json.loads(as_json.getvalue())["rules"]) >= 60
