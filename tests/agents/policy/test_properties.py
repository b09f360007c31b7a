"""Properties that hold for any line and any fee settings, checked by hypothesis."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.policy.engine import LineFacts
from agents.policy.money import minor_unit
from agents.policy.schema import CONDITIONS, REASONS
from tests.agents.policy.conftest import compile_rules

CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KWD"]

prices = st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False)
percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)
fees = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False)


def _line(price: Decimal, quantity: int, reason: str, condition: str = "opened") -> LineFacts:
    return LineFacts(
        sku="SKU", unit_price=price, quantity=quantity, reason=reason, condition=condition
    )


@settings(max_examples=300, deadline=None)
@given(
    currency=st.sampled_from(CURRENCIES),
    price=prices,
    quantity=st.integers(min_value=1, max_value=20),
    reason=st.sampled_from(REASONS),
    percent=percents,
    flat=fees,
    shipping=fees,
    free_over=st.one_of(st.none(), fees),
    bonus=percents,
    outcome=st.sampled_from(["refund", "store_credit"]),
)
def test_money_is_never_negative_never_above_the_price_and_always_in_minor_units(
    currency, price, quantity, reason, percent, flat, shipping, free_over, bonus, outcome
):
    then = {
        "outcome": outcome,
        "restocking_fee": {"percent": float(percent), "flat": str(flat)},
        "return_shipping": {"fee": str(shipping)}
        | ({"free_over": str(free_over)} if free_over is not None else {}),
    }
    if outcome == "store_credit":
        then["store_credit_bonus_percent"] = float(bonus)
    policy = compile_rules([{"id": "r", "then": then}], currency=currency)
    d = policy.evaluate(_line(price, quantity, reason), date(2026, 1, 1))

    amounts = [d.line_value, d.restocking_fee, d.return_shipping_fee, d.refund, d.store_credit]
    assert all(a >= 0 for a in amounts)
    assert d.restocking_fee + d.return_shipping_fee <= d.line_value
    paid_out = d.refund if outcome == "refund" else d.store_credit - d.store_credit_bonus
    assert paid_out + d.restocking_fee + d.return_shipping_fee == d.line_value
    digits = minor_unit(currency)
    for amount in [*amounts, d.store_credit_bonus]:
        assert amount == amount.quantize(Decimal(1).scaleb(-digits))
    for text in d.to_dict(explain=False)["amounts"].values():
        assert len(text.partition(".")[2]) == digits


@settings(max_examples=200, deadline=None)
@given(
    delivered=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    window=st.integers(min_value=0, max_value=400),
    offset=st.integers(min_value=-5, max_value=450),
)
def test_a_window_of_n_days_is_open_exactly_from_day_0_to_day_n(delivered, window, offset):
    policy = compile_rules(
        [
            {
                "id": "window",
                "when": {"days_since": {"from": "delivered", "max": window}},
                "then": {"outcome": "refund"},
            }
        ],
        default={"outcome": "reject"},
    )
    line = LineFacts(sku="S", unit_price=Decimal(10), delivered_at=delivered)
    d = policy.evaluate(line, delivered + timedelta(days=offset))
    assert (d.outcome == "refund") is (0 <= offset <= window)


@settings(max_examples=100, deadline=None)
@given(
    price=prices,
    condition=st.sampled_from(CONDITIONS),
    reason=st.sampled_from(REASONS),
    vip=st.booleans(),
    days=st.integers(min_value=0, max_value=800),
)
def test_the_demo_policy_is_deterministic_and_always_decides(
    northwind_policy, price, condition, reason, vip, days
):
    line = LineFacts(
        sku="NW-BOOT-10",
        unit_price=price,
        product_type="footwear",
        condition=condition,
        reason=reason,
        is_vip=vip,
        delivered_at=date(2026, 1, 1),
    )
    as_of = date(2026, 1, 1) + timedelta(days=days)
    first = northwind_policy.evaluate(line, as_of).to_dict()
    assert first == northwind_policy.evaluate(line, as_of).to_dict()
    assert first["rule_id"]
    assert first["path"][-1]["rule_id"] == first["rule_id"] or first["rule_id"] == "default"
    assert Decimal(first["amounts"]["refund"]) <= Decimal(first["amounts"]["line_value"])
