"""evaluate_return: the agent's tool reads the order line from system data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from agents.policy.actions import import_policy
from agents.policy.demo import demo_policy_text
from agents.policy.engine import FactsError
from agents.policy.tool import evaluate_return
from integrations.models import Order, OrderLine, Shipment
from tenants.actor import Actor
from tests.factories import make_customer, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind():
    tenant = make_tenant(slug="northwind", currency="USD", time_zone="America/New_York")
    import_policy(tenant, demo_policy_text("northwind"), Actor.system("test"), publish=True)
    return tenant


def _line(tenant, *, vip=False, delivered_at=None, country="US", **fields) -> OrderLine:
    customer = make_customer(tenant, is_vip=vip)
    order = Order.objects.create(
        tenant=tenant,
        customer=customer,
        number=f"N{Order.objects.count() + 1}",
        email=customer.email,
        currency=tenant.currency,
        subtotal=Decimal("164.00"),
        total=Decimal("164.00"),
        placed_at=datetime(2026, 2, 20, 15, 0, tzinfo=UTC),
        shipping_address={"country": country},
        raw=fields.pop("raw", {}),
    )
    Shipment.objects.create(
        tenant=tenant,
        order=order,
        carrier="ups",
        tracking_number=f"1Z{order.number}",
        shipped_at=datetime(2026, 2, 22, 15, 0, tzinfo=UTC),
        delivered_at=delivered_at,
    )
    fields = {"sku": "NW-BOOT-10", "title": "Boots", "product_type": "footwear", **fields}
    return OrderLine.objects.create(order=order, unit_price=Decimal("164.00"), **fields)


def test_decision_for_a_delivered_line_with_its_rule_path(northwind):
    line = _line(northwind, delivered_at=datetime(2026, 3, 1, 4, 30, tzinfo=UTC))
    result = evaluate_return(
        northwind, line, condition="opened", reason="changed mind", today=date(2026, 3, 30)
    )
    json.dumps(result)  # the agent stores it as evidence
    assert (result["outcome"], result["rule_id"], result["policy_version"]) == (
        "refund",
        "footwear",
        1,
    )
    assert result["sku"] == "NW-BOOT-10"
    assert result["path"][-1]["matched"] is True
    # Delivered 23:30 on 28 February in New York: 30 March is day 30, the last day.
    assert "30 days since delivered is at most 30" in result["path"][-1]["why"]


def test_vip_and_destination_come_from_the_order(northwind):
    delivered = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    vip = _line(northwind, vip=True, delivered_at=delivered)
    assert (
        evaluate_return(
            northwind, vip, condition="opened", reason="changed_mind", today=date(2026, 5, 1)
        )["rule_id"]
        == "vip-90"
    )
    abroad = _line(northwind, delivered_at=delivered, country="CA")
    result = evaluate_return(
        northwind, abroad, condition="opened", reason="changed_mind", today=date(2026, 3, 5)
    )
    assert (result["outcome"], result["amounts"]["return_shipping_fee"]) == (
        "store_credit",
        "25.00",
    )


def test_an_undelivered_line_counts_from_fulfilment(northwind):
    line = _line(northwind)
    result = evaluate_return(
        northwind, line, condition="unopened", reason="changed_mind", today=date(2026, 3, 20)
    )
    assert result["rule_id"] == "no-delivery-scan"


def test_tags_from_the_store_payload(northwind):
    line = _line(
        northwind,
        delivered_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        raw={"line_items": [{"sku": "NW-BOOT-10", "tags": "monogram, leather"}]},
    )
    result = evaluate_return(
        northwind, line, condition="unopened", reason="changed_mind", today=date(2026, 3, 5)
    )
    assert result["rule_id"] == "personalised"


def test_final_sale_flag_on_the_line(northwind):
    line = _line(northwind, is_final_sale=True, delivered_at=datetime(2026, 3, 1, tzinfo=UTC))
    result = evaluate_return(northwind, line, condition="unopened", reason="changed_mind")
    assert (result["outcome"], result["rule_id"]) == ("reject", "final-sale")


def test_without_a_policy_a_human_decides():
    tenant = make_tenant()
    line = _line(tenant)
    result = evaluate_return(tenant, line, condition="opened", reason="wrong_size")
    assert (result["outcome"], result["rule_id"], result["policy_version"]) == (
        "review",
        None,
        None,
    )


def test_unknown_reason_and_foreign_lines_are_refused(northwind):
    line = _line(northwind)
    with pytest.raises(FactsError) as err:
        evaluate_return(northwind, line, condition="opened", reason="bored")
    assert err.value.field == "reason"
    with pytest.raises(ValueError, match="another tenant"):
        evaluate_return(make_tenant(), line, condition="opened", reason="wrong_size")
