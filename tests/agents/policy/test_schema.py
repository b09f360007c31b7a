"""The policy file format: demo files are valid, broken files say where they are broken."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from agents.policy.demo import DEMO_POLICIES, demo_policy_text
from agents.policy.schema import POLICY_SCHEMA, PolicyFormatError, dump_text, parse_text

GOOD_RULE = "  - id: ok\n    then: {outcome: refund}\n"


def errors_of(text: str) -> list[tuple[str | None, str, str]]:
    with pytest.raises(PolicyFormatError) as err:
        parse_text(text)
    return [(e.rule, e.field, e.message) for e in err.value.errors]


def test_the_schema_itself_is_valid_json_schema():
    Draft202012Validator.check_schema(POLICY_SCHEMA)


@pytest.mark.parametrize("slug", sorted(DEMO_POLICIES))
def test_demo_policies_are_valid_and_round_trip_through_export(slug):
    document = parse_text(demo_policy_text(slug))
    assert parse_text(dump_text(document)) == document
    assert parse_text(json.dumps(document)) == document


@pytest.mark.parametrize(("slug", "at_least"), [("northwind", 60), ("lumen", 40), ("kettle", 20)])
def test_demo_policies_have_realistic_sizes(slug, at_least):
    assert len(parse_text(demo_policy_text(slug))["rules"]) >= at_least


@pytest.mark.parametrize(
    ("rule_yaml", "rule", "field", "message"),
    [
        (
            "  - id: late\n    when: {days_since: {from: shipped, max: 30}}\n    then: {outcome: refund}\n",
            "late",
            "when.days_since.from",
            "'shipped' is not one of delivered, fulfilled, ordered",
        ),
        (
            "  - id: fee\n    then: {outcome: refund, restocking_fee: {percent: 120}}\n",
            "fee",
            "then.restocking_fee.percent",
            "120 is greater than the maximum of 100",
        ),
        (
            "  - id: fee\n    then: {outcome: refund, return_shipping: {fee: -4}}\n",
            "fee",
            "then.return_shipping.fee",
            '-4 is not an amount like "12.50"',
        ),
        ("  - id: nothen\n    when: {vip: true}\n", "nothen", "then", "is required"),
        (
            "  - id: typo\n    when: {condtion: [opened]}\n    then: {outcome: refund}\n",
            "typo",
            "when.condtion",
            "unknown field",
        ),
        (
            "  - id: odd\n    then: {outcome: refund_maybe}\n",
            "odd",
            "then.outcome",
            "'refund_maybe' is not one of refund, store_credit, exchange, replacement, "
            "keep_item_refund, reject, review",
        ),
        (
            "  - id: Bad Id\n    then: {outcome: refund}\n",
            "Bad Id",
            "id",
            "rule ids are lower-case letters, digits and dashes",
        ),
        (
            "  - then: {outcome: refund}\n",
            "#2",
            "id",
            "is required",
        ),
        (
            "  - id: keep\n    then: {outcome: keep_item_refund}\n",
            "keep",
            "then.keep_item_max",
            "keep_item_refund needs keep_item_max",
        ),
        (
            "  - id: xmas\n    when: {holiday: {ordered_from: '11-31', ordered_to: '12-24', "
            "returnable_until: '01-31'}}\n    then: {outcome: refund}\n",
            "xmas",
            "when.holiday.ordered_from",
            "'11-31' is not a month-day like 11-01",
        ),
        (
            "  - id: ok\n    then: {outcome: reject}\n",
            "ok",
            "id",
            "is used by an earlier rule",
        ),
        (
            "  - id: swap\n    then: {outcome: exchange, restocking_fee: {flat: 5}}\n",
            "swap",
            "then.restocking_fee",
            "fees only apply to refund or store_credit, not exchange",
        ),
        (
            "  - id: band\n    when: {price: {min: 100, max: 50}}\n    then: {outcome: refund}\n",
            "band",
            "when.price",
            "min must be below max",
        ),
        (
            "  - id: default\n    then: {outcome: refund}\n",
            "default",
            "id",
            "'default' names the fallback; pick another id",
        ),
    ],
)
def test_errors_name_the_rule_and_the_field(rule_yaml, rule, field, message):
    text = "format: 1\nrules:\n" + GOOD_RULE + rule_yaml
    assert (rule, field, message) in errors_of(text)


def test_every_error_in_a_file_is_reported_at_once():
    text = (
        "format: 1\nrules:\n"
        "  - id: a\n    then: {outcome: nope}\n"
        "  - id: b\n    when: {vip: maybe}\n    then: {outcome: refund}\n"
    )
    found = errors_of(text)
    assert [(r, f) for r, f, _ in found] == [("a", "then.outcome"), ("b", "when.vip")]


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("rules: []\n", "format", "is required"),
        ("format: 2\nrules: []\n", "format", "1 was expected"),
        ("format: 1\nrules: []\nowner: me\n", "owner", "unknown field"),
        ("- just\n- a list\n", "", "the file must hold a mapping with format and rules"),
    ],
)
def test_policy_level_errors(text, field, message):
    assert (None, field, message) in errors_of(text)


def test_broken_yaml_says_where():
    [(rule, _field, message)] = errors_of("format: 1\nrules: [\n  {id: a\n")
    assert rule is None
    assert message.startswith("not valid YAML or JSON at line")


def test_error_text_reads_as_a_sentence():
    with pytest.raises(PolicyFormatError) as err:
        parse_text("format: 1\nrules:\n  - id: fee\n    then: {outcome: refund, label_cost: abc}\n")
    assert (
        str(err.value) == "rule 'fee', field then.label_cost: 'abc' is not an amount like \"12.50\""
    )
