"""Small policies written for the test at hand, so each table reads on its own."""

from __future__ import annotations

from typing import Any

import pytest

from agents.policy.engine import CompiledPolicy


def compile_rules(
    rules: list[dict[str, Any]],
    *,
    currency: str = "USD",
    time_zone: str = "America/New_York",
    **document: Any,
) -> CompiledPolicy:
    return CompiledPolicy(
        {"format": 1, "rules": rules, **document}, currency=currency, time_zone=time_zone, version=7
    )


@pytest.fixture
def simple_document() -> dict[str, Any]:
    return {
        "format": 1,
        "name": "Test policy",
        "rules": [
            {"id": "final-sale", "when": {"final_sale": True}, "then": {"outcome": "reject"}},
            {
                "id": "window-30",
                "when": {"days_since": {"from": "delivered", "max": 30}},
                "then": {"outcome": "refund", "return_shipping": {"fee": "5.00"}},
            },
        ],
    }


@pytest.fixture(scope="session")
def northwind_policy() -> CompiledPolicy:
    from agents.policy.demo import demo_policy_text
    from agents.policy.schema import parse_text

    document = parse_text(demo_policy_text("northwind"))
    return CompiledPolicy(document, currency="USD", time_zone="America/New_York", version=1)
