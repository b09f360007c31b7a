"""The sandbox store's returns and replacements: keyed, bounded by the order, linked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations import executors
from integrations.commerce import Capability, adapter_for_order
from integrations.models import Order, OrderLine, Return
from tests.factories import make_order, make_tenant

pytestmark = pytest.mark.django_db


def _delivered(total: str = "80.00", quantity: int = 1) -> Order:
    order = make_order(make_tenant(), total=total, shipment_status="delivered")
    order.lines.update(quantity=quantity)
    return order


def _line(sku: str = "SKU-1", quantity: int = 1) -> list[executors.LineRequest]:
    return [executors.LineRequest(sku=sku, quantity=quantity, reason="too_small")]


def test_the_sandbox_declares_returns_and_replacements():
    adapter = adapter_for_order(make_order(make_tenant()))
    assert adapter.supports(Capability.CREATE_RETURN)
    assert adapter.supports(Capability.REPLACEMENT)


def test_a_return_comes_with_a_prepaid_label():
    order = _delivered()
    result = executors.create_return(order, _line(), idempotency_key="r-1", note="contact 1")
    row = Return.objects.get(order=order)
    assert result.external_id == row.external_id == f"sandbox-return-{row.pk}"
    assert row.status == Return.Status.LABEL_SENT
    assert row.label_tracking_number and row.label_tracking_number in row.label_url
    assert row.lines == [
        {"sku": "SKU-1", "title": "Test item", "quantity": 1, "reason": "too_small"}
    ]
    assert result.detail["label_tracking_number"] == row.label_tracking_number
    assert result.detail["replayed"] is False


def test_a_repeated_return_key_gives_the_first_return():
    order = _delivered()
    first = executors.create_return(order, _line(), idempotency_key="r-1")
    again = executors.create_return(order, _line(), idempotency_key="r-1")
    assert again.external_id == first.external_id
    assert again.detail["replayed"] is True
    assert again.detail["label_url"] == first.detail["label_url"]
    assert Return.objects.filter(order=order).count() == 1


def test_the_same_key_in_another_tenant_is_another_return():
    one, two = _delivered(), _delivered()
    executors.create_return(one, _line(), idempotency_key="r-1")
    executors.create_return(two, _line(), idempotency_key="r-1")
    assert Return.objects.count() == 2


def test_a_return_cannot_take_back_more_than_was_bought():
    order = _delivered(quantity=2)
    executors.create_return(order, _line(quantity=1), idempotency_key="r-1")
    executors.create_return(order, _line(quantity=1), idempotency_key="r-2")
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(order, _line(quantity=1), idempotency_key="r-3")
    assert caught.value.permanent is True
    assert "0 left" in str(caught.value)


def test_a_return_of_a_line_the_order_does_not_hold_is_refused():
    order = _delivered()
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(order, _line(sku="NOPE"), idempotency_key="r-1")
    assert caught.value.permanent is True
    assert not Return.objects.exists()


def test_an_order_that_never_shipped_is_cancelled_not_returned():
    order = make_order(make_tenant(), shipment_status=None)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(order, _line(), idempotency_key="r-1")
    assert "cancel it instead" in str(caught.value)


def test_a_replacement_is_a_free_order_linked_to_the_original():
    order = _delivered(total="60.00", quantity=2)
    result = executors.create_replacement(order, _line(quantity=2), idempotency_key="x-1")
    replacement = Order.objects.get(number=f"{order.number}-R1")
    assert result.detail == {
        "replayed": False,
        "order": replacement.number,
        "replacement_of": order.number,
        "lines": [{"sku": "SKU-1", "title": "Test item", "quantity": 2, "reason": "too_small"}],
    }
    assert replacement.total == replacement.subtotal == Decimal("0")
    assert replacement.raw["replacement_of"] == str(order.public_id)
    assert replacement.customer_id == order.customer_id
    assert replacement.fulfillment_status == ""
    line = OrderLine.objects.get(order=replacement)
    assert (line.sku, line.quantity, line.unit_price) == ("SKU-1", 2, Decimal("0"))


def test_a_repeated_replacement_key_gives_the_first_replacement():
    order = _delivered()
    first = executors.create_replacement(order, _line(), idempotency_key="x-1")
    again = executors.create_replacement(order, _line(), idempotency_key="x-1")
    assert again.external_id == first.external_id
    assert again.detail["replayed"] is True
    assert Order.objects.filter(raw__replacement_of=str(order.public_id)).count() == 1
    other = executors.create_replacement(order, _line(), idempotency_key="x-2")
    assert other.detail["order"] == f"{order.number}-R2"


def test_a_cancelled_order_is_not_replaced():
    order = _delivered()
    Order.objects.filter(pk=order.pk).update(cancelled_at=order.placed_at)
    order.refresh_from_db()
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_replacement(order, _line(), idempotency_key="x-1")
    assert "cancelled" in str(caught.value)


def test_an_order_the_store_calls_fulfilled_is_not_cancelled_even_without_tracking():
    order = make_order(make_tenant(), shipment_status=None)
    Order.objects.filter(pk=order.pk).update(fulfillment_status="fulfilled")
    order.refresh_from_db()
    with pytest.raises(executors.ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-1")
    assert caught.value.permanent is True
    order.refresh_from_db()
    assert order.cancelled_at is None


# --- refunds that name what they pay back -------------------------------------


def _parts(**kwargs) -> executors.RefundParts:
    return executors.RefundParts(**kwargs)


def test_a_refund_naming_its_item_and_shipping_pays_them_back_to_the_card():
    order = _delivered()
    order.shipping_total = Decimal("5.00")
    order.save(update_fields=["shipping_total"])
    parts = _parts(lines=tuple(_line()), shipping=Decimal("5.00"))

    result = executors.refund(
        order, Decimal("45.00"), idempotency_key="p-1", note="damaged", parts=parts
    )

    assert result.detail["lines"] == [{"sku": "SKU-1", "quantity": 1}]
    assert result.detail["shipping"] == "5.00"
    assert result.detail["to"] == "original_payment"
    assert order.refunds.get().amount == Decimal("45.00")


def test_a_refund_to_store_credit_credits_the_customer_once():
    from integrations.models import StoreCredit

    order = _delivered()
    parts = _parts(to_store_credit=True)

    first = executors.refund(order, Decimal("30.00"), idempotency_key="sc-1", note="", parts=parts)
    again = executors.refund(order, Decimal("30.00"), idempotency_key="sc-1", note="", parts=parts)

    assert first.detail["to"] == again.detail["to"] == "store_credit"
    assert StoreCredit.objects.filter(order=order).count() == 1
    assert not order.refunds.exists()


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"lines": ("NOT-ON-ORDER",)}, "is not on order"),
        ({"shipping": Decimal("9.00")}, "exceeds what was charged"),
        ({"lines": ("SKU-1",), "shipping": Decimal("0")}, "exceeds the items and shipping"),
    ],
)
def test_a_refund_whose_parts_the_order_does_not_bear_is_refused(parts, message):
    order = _delivered(total="40.00")
    if "lines" in parts:
        parts = {**parts, "lines": tuple(_line(sku=s)[0] for s in parts["lines"])}

    with pytest.raises(executors.ExecutionError, match=message):
        executors.refund(
            order, Decimal("45.00"), idempotency_key="bad", note="", parts=_parts(**parts)
        )
    assert not order.refunds.exists()
