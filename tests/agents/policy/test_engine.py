"""The engine's decisions, table by table: windows, outcomes, fees, rounding, the path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from agents.policy.engine import FactsError, LineFacts, facts_from_json, holiday_deadline
from agents.policy.schema import OUTCOMES
from tests.agents.policy.conftest import compile_rules

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def facts(**fields) -> LineFacts:
    fields.setdefault("sku", "SKU-1")
    fields.setdefault("unit_price", Decimal("100.00"))
    fields.setdefault("condition", "unopened")
    fields.setdefault("reason", "changed_mind")
    return LineFacts(**fields)


WINDOW = compile_rules(
    [
        {
            "id": "window-30",
            "when": {"days_since": {"from": "delivered", "max": 30}},
            "then": {"outcome": "refund"},
        }
    ],
    default={"outcome": "reject"},
)


# Delivered 23:30 on 1 March in New York, which is already 2 March in UTC.
DELIVERED_LATE_EVENING = datetime(2026, 3, 1, 23, 30, tzinfo=NY)


@pytest.mark.parametrize(
    ("as_of", "outcome"),
    [
        (datetime(2026, 3, 31, 23, 59, 59, tzinfo=NY), "refund"),  # day 30, last second
        (datetime(2026, 4, 1, 0, 0, tzinfo=NY), "reject"),  # day 31 in New York
        # 1 April 02:00 UTC is still 31 March in New York: inside.
        (datetime(2026, 4, 1, 2, 0, tzinfo=UTC), "refund"),
        (datetime(2026, 4, 1, 4, 0, tzinfo=UTC), "reject"),
        (date(2026, 3, 1), "refund"),  # same day
        (date(2026, 3, 31), "refund"),
        (date(2026, 4, 1), "reject"),
    ],
)
def test_window_edges_are_calendar_days_in_the_merchants_time_zone(as_of, outcome):
    decision = WINDOW.evaluate(facts(delivered_at=DELIVERED_LATE_EVENING), as_of)
    assert decision.outcome == outcome


def test_window_start_in_utc_is_converted_to_the_merchants_day():
    # 02:00 UTC on 2 March is 21:00 on 1 March in New York: day 0 is 1 March.
    delivered = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert WINDOW.evaluate(facts(delivered_at=delivered), date(2026, 3, 31)).outcome == "refund"
    assert WINDOW.evaluate(facts(delivered_at=delivered), date(2026, 4, 1)).outcome == "reject"


def test_the_same_instant_is_a_different_day_for_a_merchant_in_berlin():
    berlin = compile_rules(WINDOW.document["rules"], time_zone="Europe/Berlin", currency="EUR")
    delivered = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # Berlin: 2 March; New York: 1 March
    as_of = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # 1 April in both
    assert (
        berlin.evaluate(facts(delivered_at=delivered, currency="EUR"), as_of).rule_id == "window-30"
    )
    assert WINDOW.evaluate(facts(delivered_at=delivered), as_of).rule_id == "default"


def test_window_across_the_dst_change_still_counts_whole_days():
    # Clocks go forward in New York on 8 March 2026; days, not hours, decide.
    delivered = datetime(2026, 3, 7, 0, 15, tzinfo=NY)
    assert (
        WINDOW.evaluate(
            facts(delivered_at=delivered), datetime(2026, 4, 6, 23, 59, tzinfo=NY)
        ).outcome
        == "refund"
    )
    assert (
        WINDOW.evaluate(
            facts(delivered_at=delivered), datetime(2026, 4, 7, 0, 1, tzinfo=NY)
        ).outcome
        == "reject"
    )


def test_a_line_not_delivered_yet_does_not_match_a_delivery_window():
    decision = WINDOW.evaluate(facts(), date(2026, 3, 5))
    assert decision.rule_id == "default"
    assert decision.path()[0] == {
        "rule_id": "window-30",
        "matched": False,
        "why": "not delivered yet",
    }


def test_window_start_is_per_rule():
    policy = compile_rules(
        [
            {
                "id": "from-fulfilment",
                "when": {"days_since": {"from": "fulfilled", "max": 10}},
                "then": {"outcome": "refund"},
            },
            {
                "id": "from-order",
                "when": {"days_since": {"from": "ordered", "max": 20}},
                "then": {"outcome": "store_credit"},
            },
        ],
        default={"outcome": "reject"},
    )
    line = facts(ordered_at=date(2026, 1, 1), fulfilled_at=date(2026, 1, 5))
    assert policy.evaluate(line, date(2026, 1, 15)).rule_id == "from-fulfilment"
    assert policy.evaluate(line, date(2026, 1, 16)).rule_id == "from-order"
    assert policy.evaluate(line, date(2026, 1, 22)).rule_id == "default"


HOLIDAY = {"ordered_from": "11-01", "ordered_to": "12-24", "returnable_until": "01-31"}


@pytest.mark.parametrize(
    ("ordered", "deadline"),
    [
        (date(2025, 11, 1), date(2026, 1, 31)),
        (date(2025, 12, 24), date(2026, 1, 31)),
        (date(2025, 10, 31), None),
        (date(2025, 12, 25), None),
    ],
)
def test_holiday_window_deadline(ordered, deadline):
    assert holiday_deadline(ordered, HOLIDAY) == deadline


def test_holiday_window_that_wraps_the_new_year():
    window = {"ordered_from": "12-15", "ordered_to": "01-05", "returnable_until": "02-15"}
    assert holiday_deadline(date(2025, 12, 20), window) == date(2026, 2, 15)
    assert holiday_deadline(date(2026, 1, 5), window) == date(2026, 2, 15)
    assert holiday_deadline(date(2026, 1, 6), window) is None


def test_holiday_order_is_returnable_until_the_last_local_day():
    policy = compile_rules(
        [{"id": "holiday", "when": {"holiday": HOLIDAY}, "then": {"outcome": "refund"}}],
        default={"outcome": "reject"},
    )
    # Ordered at 23:00 on 24 December in New York (04:00 UTC on the 25th): inside the window.
    line = facts(ordered_at=datetime(2025, 12, 25, 4, 0, tzinfo=UTC))
    assert policy.evaluate(line, datetime(2026, 1, 31, 23, 59, tzinfo=NY)).outcome == "refund"
    assert policy.evaluate(line, datetime(2026, 2, 1, 0, 0, tzinfo=NY)).outcome == "reject"


# One rule per outcome, each reached by a line that matches nothing earlier.
EVERY_OUTCOME = compile_rules(
    [
        {"id": "r-reject", "when": {"final_sale": True}, "then": {"outcome": "reject"}},
        {"id": "r-review", "when": {"vip": True}, "then": {"outcome": "review"}},
        {
            "id": "r-replacement",
            "when": {"reason": ["damaged_in_transit"]},
            "then": {"outcome": "replacement"},
        },
        {"id": "r-exchange", "when": {"reason": ["wrong_size"]}, "then": {"outcome": "exchange"}},
        {
            "id": "r-keep",
            "when": {"reason": ["defective"]},
            "then": {"outcome": "keep_item_refund", "keep_item_max": "20"},
        },
        {
            "id": "r-credit",
            "when": {"gift": True},
            "then": {"outcome": "store_credit", "store_credit_bonus_percent": 10},
        },
        {"id": "r-refund", "when": {"condition": ["unopened"]}, "then": {"outcome": "refund"}},
    ]
)


@pytest.mark.parametrize(
    ("line", "outcome", "rule_id"),
    [
        (facts(is_final_sale=True), "reject", "r-reject"),
        (facts(is_vip=True), "review", "r-review"),
        (facts(reason="damaged_in_transit"), "replacement", "r-replacement"),
        (facts(reason="wrong_size"), "exchange", "r-exchange"),
        (facts(reason="defective", unit_price=Decimal("19.99")), "keep_item_refund", "r-keep"),
        (facts(is_gift=True), "store_credit", "r-credit"),
        (facts(), "refund", "r-refund"),
        # Defective but above the keep-the-item limit, and opened: no rule, the default.
        (facts(reason="defective", condition="opened"), "review", "default"),
    ],
)
def test_every_outcome_is_reachable(line, outcome, rule_id):
    decision = EVERY_OUTCOME.evaluate(line, date(2026, 1, 1))
    assert (decision.outcome, decision.rule_id) == (outcome, rule_id)


def test_the_table_above_covers_every_outcome():
    reached = {r.outcome for r in EVERY_OUTCOME.rules}
    assert reached == set(OUTCOMES)


FEES = compile_rules(
    [
        {
            "id": "fees",
            "when": {"condition": ["opened"]},
            "then": {
                "outcome": "refund",
                "restocking_fee": {"percent": 15, "flat": "2.50"},
                "return_shipping": {"fee": "7.95", "free_over": "100.00"},
                "label_cost": "6.10",
            },
        },
        {
            "id": "credit",
            "when": {"condition": ["unopened"]},
            "then": {
                "outcome": "store_credit",
                "store_credit_bonus_percent": 10,
                "restocking_fee": {"percent": 100},
                "return_shipping": {"fee": "5.00"},
            },
        },
    ]
)


@pytest.mark.parametrize(
    ("price", "quantity", "reason", "restock", "shipping", "mode", "refund"),
    [
        # 15% of 40 + 2.50 = 8.50; 7.95 postage; 40 - 16.45 = 23.55
        ("40.00", 1, "changed_mind", "8.50", "7.95", "charged", "23.55"),
        # At the free-return threshold postage is waived.
        ("100.00", 1, "changed_mind", "17.50", "0.00", "waived", "82.50"),
        ("99.99", 1, "changed_mind", "17.50", "7.95", "charged", "74.54"),
        # Two units: flat fee per unit, free postage on the line total.
        ("60.00", 2, "changed_mind", "23.00", "0.00", "waived", "97.00"),
        # Fees never exceed the price: 15% of 3 + 2.50 = 2.95, postage capped at the 0.05 left.
        ("3.00", 1, "changed_mind", "2.95", "0.05", "charged", "0.00"),
        ("1.00", 1, "changed_mind", "1.00", "0.00", "charged", "0.00"),
        ("0.00", 1, "changed_mind", "0.00", "0.00", "charged", "0.00"),
        # Merchant's fault: no fees at all.
        ("40.00", 1, "defective", "0.00", "0.00", "waived", "40.00"),
        ("40.00", 1, "wrong_item", "0.00", "0.00", "waived", "40.00"),
    ],
)
def test_fees_and_refund(price, quantity, reason, restock, shipping, mode, refund):
    line = facts(unit_price=Decimal(price), quantity=quantity, condition="opened", reason=reason)
    d = FEES.evaluate(line, date(2026, 1, 1))
    assert (d.restocking_fee, d.return_shipping_fee, d.return_shipping, d.refund) == (
        Decimal(restock),
        Decimal(shipping),
        mode,
        Decimal(refund),
    )
    assert d.label_cost == Decimal("6.10")


def test_a_hundred_percent_restocking_fee_leaves_nothing_and_no_negative_credit():
    d = FEES.evaluate(facts(unit_price=Decimal("30.00")), date(2026, 1, 1))
    assert d.outcome == "store_credit"
    assert (d.restocking_fee, d.return_shipping_fee, d.store_credit) == (Decimal("30.00"), 0, 0)


def test_store_credit_bonus_is_rounded_and_added():
    policy = compile_rules(
        [{"id": "credit", "then": {"outcome": "store_credit", "store_credit_bonus_percent": 7.5}}]
    )
    d = policy.evaluate(facts(unit_price=Decimal("33.33")), date(2026, 1, 1))
    # 7.5% of 33.33 = 2.49975 → 2.50 (half up)
    assert (d.store_credit_bonus, d.store_credit, d.refund) == (
        Decimal("2.50"),
        Decimal("35.83"),
        Decimal("0"),
    )


@pytest.mark.parametrize(
    ("currency", "price", "refund", "text"),
    [
        ("USD", "19.99", Decimal("16.99"), "16.99"),  # 15% of 19.99 = 2.9985 → 3.00
        ("JPY", "1999", Decimal("1699"), "1699"),  # 299.85 → 300 yen
        ("KWD", "19.999", Decimal("16.999"), "16.999"),  # 2.99985 → 3.000
        ("EUR", "0.01", Decimal("0.01"), "0.01"),  # 0.0015 → 0.00
    ],
)
def test_money_is_rounded_half_up_to_the_currencys_minor_unit(currency, price, refund, text):
    policy = compile_rules(
        [{"id": "r", "then": {"outcome": "refund", "restocking_fee": {"percent": 15}}}],
        currency=currency,
    )
    d = policy.evaluate(facts(unit_price=Decimal(price), currency=currency), date(2026, 1, 1))
    assert d.refund == refund
    assert d.to_dict()["amounts"]["refund"] == text


def test_keep_item_limit_is_part_of_the_match():
    policy = compile_rules(
        [
            {"id": "keep", "then": {"outcome": "keep_item_refund", "keep_item_max": "25.00"}},
            {"id": "refund", "then": {"outcome": "refund"}},
        ]
    )
    kept = policy.evaluate(facts(unit_price=Decimal("25.00")), date(2026, 1, 1))
    assert (kept.rule_id, kept.refund, kept.return_shipping) == ("keep", Decimal("25.00"), "none")
    over = policy.evaluate(facts(unit_price=Decimal("12.50"), quantity=3), date(2026, 1, 1))
    assert over.rule_id == "refund"
    assert "37.50 is above the keep-the-item limit 25.00" in over.path()[0]["why"]


@pytest.mark.parametrize(
    ("when", "line", "matches"),
    [
        ({"sku": ["NW-PARKA-*"]}, facts(sku="nw-parka-m"), True),
        ({"sku": ["NW-PARKA-*"]}, facts(sku="NW-BOOT-10"), False),
        ({"product_type": ["Outerwear"]}, facts(product_type="outerwear"), True),
        ({"tags": ["sale", "clearance"]}, facts(tags=frozenset({"Clearance"})), True),
        ({"tags": ["sale"]}, facts(tags=frozenset()), False),
        ({"price": {"min": "50", "max": "100"}}, facts(unit_price=Decimal("50")), True),
        ({"price": {"min": "50", "max": "100"}}, facts(unit_price=Decimal("100")), False),
        ({"sales_channel": ["amazon"]}, facts(sales_channel="Amazon"), True),
        ({"country": ["de", "AT"]}, facts(country="DE"), True),
        ({"country_not": ["US"]}, facts(country="US"), False),
        ({"country_not": ["US"]}, facts(country="CA"), True),
        ({"country_not": ["US"]}, facts(country=""), False),
        ({"country": ["US"]}, facts(country=""), False),
        ({"vip": True}, facts(is_vip=False), False),
        ({"hygiene": True}, facts(is_hygiene=True), True),
        ({"bundle": False}, facts(is_bundle=True), False),
        ({"condition": ["worn", "damaged"]}, facts(condition="worn"), True),
        ({"reason": ["wrong_item"]}, facts(reason="wrong_size"), False),
        ({"days_since": {"from": "ordered", "min": 31}}, facts(ordered_at=date(2025, 12, 1)), True),
        (
            {"days_since": {"from": "ordered", "min": 32}},
            facts(ordered_at=date(2025, 12, 1)),
            False,
        ),
    ],
)
def test_each_condition(when, line, matches):
    policy = compile_rules([{"id": "r", "when": when, "then": {"outcome": "refund"}}])
    assert (policy.evaluate(line, date(2026, 1, 1)).rule_id == "r") is matches


def test_first_matching_rule_wins_and_the_path_says_why():
    policy = compile_rules(
        [
            {"id": "sale", "when": {"tags": ["sale"]}, "then": {"outcome": "store_credit"}},
            {
                "id": "boots",
                "when": {"product_type": ["footwear"], "condition": ["unopened"]},
                "then": {"outcome": "refund"},
            },
            {"id": "any", "then": {"outcome": "reject"}},
        ]
    )
    d = policy.evaluate(facts(product_type="footwear"), date(2026, 1, 1))
    assert d.to_dict()["path"] == [
        {"rule_id": "sale", "matched": False, "why": "tags (none) do not include sale"},
        {
            "rule_id": "boots",
            "matched": True,
            "why": "condition unopened is unopened; product_type footwear is footwear",
        },
    ]
    assert (d.rule_id, d.policy_version) == ("boots", 7)


def test_default_outcome_when_nothing_matches():
    policy = compile_rules(
        [{"id": "r", "when": {"vip": True}, "then": {"outcome": "refund"}}],
        default={"outcome": "reject", "message": "Not returnable."},
    )
    d = policy.evaluate(facts(), date(2026, 1, 1))
    assert (d.outcome, d.rule_id, d.message, d.refund) == (
        "reject",
        "default",
        "Not returnable.",
        0,
    )


def test_evaluation_refuses_another_currency():
    with pytest.raises(FactsError) as err:
        WINDOW.evaluate(facts(currency="EUR"), date(2026, 1, 1))
    assert err.value.field == "currency"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "line"),
        ({"unit_price": "1"}, "sku"),
        ({"sku": "A"}, "unit_price"),
        ({"sku": "A", "unit_price": "ten"}, "unit_price"),
        ({"sku": "A", "unit_price": "1", "quantity": 0}, "quantity"),
        ({"sku": "A", "unit_price": "1", "is_vip": "yes"}, "is_vip"),
        ({"sku": "A", "unit_price": "1", "delivered_at": "yesterday"}, "delivered_at"),
        ({"sku": "A", "unit_price": "1", "condition": "mint"}, "condition"),
        ({"sku": "A", "unit_price": "1", "reason": "bored"}, "reason"),
        ({"sku": "A", "unit_price": "1", "tags": "sale"}, "tags"),
    ],
)
def test_malformed_facts_name_the_field(data, field):
    with pytest.raises(FactsError) as err:
        facts_from_json(data)
    assert err.value.field == field


def test_facts_from_json_reads_every_field():
    line, as_of = facts_from_json(
        {
            "sku": "NW-BOOT-10",
            "unit_price": 164,
            "quantity": 2,
            "product_type": "footwear",
            "tags": ["sale"],
            "sales_channel": "online_store",
            "country": "US",
            "is_vip": True,
            "ordered_at": "2026-01-02T10:00:00Z",
            "fulfilled_at": "2026-01-03",
            "delivered_at": "2026-01-06T18:00:00-05:00",
            "condition": "opened",
            "reason": "wrong_size",
            "is_gift": True,
            "as_of": "2026-01-20",
        }
    )
    assert line.unit_price == Decimal("164")
    assert line.delivered_at == datetime(2026, 1, 6, 23, 0, tzinfo=UTC)
    assert line.tags == frozenset({"sale"})
    assert (line.is_vip, line.is_gift, line.is_hygiene) == (True, True, False)
    assert as_of == date(2026, 1, 20)
