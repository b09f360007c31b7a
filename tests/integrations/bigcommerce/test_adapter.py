"""The BigCommerce adapter: what it declares, and each action landing once."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from integrations import executors
from integrations.bigcommerce.adapter import BigCommerceAdapter, marker
from integrations.commerce import Capability, adapter_for_order
from integrations.models import Order, Refund
from tests.integrations.bigcommerce.conftest import API, load, serve_order

pytestmark = pytest.mark.django_db

ONLINE = {
    "provider_id": "braintree",
    "provider_description": "Braintree",
    "amount": 69.84,
    "offline": False,
    "offline_provider": False,
    "offline_reason": "",
}
STORE_CREDIT = {
    "provider_id": "storecredit",
    "provider_description": "Store Credit",
    "amount": 69.84,
    "offline": False,
    "offline_provider": False,
    "offline_reason": "",
}


@pytest.fixture
def mirrored(bc_connection, store):
    serve_order(store, 218, shipments=[])
    order = BigCommerceAdapter(bc_connection.tenant, bc_connection).find_order("218")
    store.calls.reset()
    return order


def quote(*methods) -> dict:
    return {
        "data": {
            "order_id": 218,
            "total_refund_amount": 20.0,
            "total_refund_tax_amount": 0,
            "rounding": 0,
            "adjustment": 0,
            "tax_inclusive": True,
            "refund_methods": list(methods),
        },
        "meta": {},
    }


def test_declares_what_bigcommerce_can_do(mirrored):
    adapter = adapter_for_order(mirrored)
    assert isinstance(adapter, BigCommerceAdapter)
    assert adapter.supports(Capability.REFUND)
    assert not adapter.supports(Capability.CREATE_RETURN)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(
            mirrored, [executors.LineRequest(sku="S-ORAN")], idempotency_key="k"
        )
    assert caught.value.permanent is True


def test_find_order_falls_back_to_the_store_and_mirrors_it(mirrored):
    assert mirrored.external_id == "218"
    assert Order.objects.get().pk == mirrored.pk


def test_refund_goes_back_to_the_original_payment_once(mirrored, store):
    store.get(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        200, json={"data": [], "meta": {}}
    )
    store.post(f"{API}/v3/orders/218/payment_actions/refund_quotes").respond(
        201, json=quote([STORE_CREDIT], [ONLINE])
    )
    created = load("refund.json")
    created["data"].update(id=41, order_id=218)
    create = store.post(f"{API}/v3/orders/218/payment_actions/refunds").respond(201, json=created)

    first = executors.refund(mirrored, Decimal("20.00"), idempotency_key="p-1", note="Late")
    again = executors.refund(mirrored, Decimal("20.00"), idempotency_key="p-1", note="Late")

    assert first.external_id == again.external_id == "bigcommerce:refund:41"
    assert again.detail["replayed"] is True
    assert create.call_count == 1
    body = json.loads(create.calls.last.request.content)
    assert body["items"] == [
        {"item_type": "ORDER", "item_id": 218, "amount": 20.0, "reason": "Late"}
    ]
    assert body["payments"] == [{"provider_id": "braintree", "amount": 20.0, "offline": False}]
    assert marker("p-1") in body["reason"]
    assert Refund.objects.get().amount == Decimal("20.00")


def test_a_refund_bigcommerce_already_made_for_the_key_is_not_made_again(mirrored, store):
    # A previous attempt created it, then the worker died before mirroring it.
    existing = load("refund.json")["data"]
    existing.update(id=40, order_id=218, reason=f"Late [{marker('p-1')}]")
    store.get(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        200, json={"data": [existing], "meta": {}}
    )
    create = store.post(f"{API}/v3/orders/218/payment_actions/refunds")
    result = executors.refund(mirrored, Decimal("20.00"), idempotency_key="p-1", note="Late")
    assert result.external_id == "bigcommerce:refund:40"
    assert not create.called
    assert Refund.objects.get().idempotency_key == "p-1"


def test_refund_only_to_store_credit_is_left_to_a_person(mirrored, store):
    store.get(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        200, json={"data": [], "meta": {}}
    )
    store.post(f"{API}/v3/orders/218/payment_actions/refund_quotes").respond(
        201, json=quote([STORE_CREDIT])
    )
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(mirrored, Decimal("20.00"), idempotency_key="p-2", note="")
    assert caught.value.permanent is True
    assert "store credit" in str(caught.value)
    assert not Refund.objects.exists()


def test_cancel_sets_the_cancelled_status_once(mirrored, store):
    update = store.put(f"{API}/v2/orders/218").respond(
        200, json={**load("order.json"), "status_id": 5, "status": "Cancelled"}
    )
    executors.cancel(mirrored, idempotency_key="c-1")
    assert json.loads(update.calls.last.request.content) == {"status_id": 5}
    mirrored.refresh_from_db()
    assert mirrored.cancelled_at is not None

    serve_order(store, 218, shipments=[], status_id=5, status="Cancelled")
    assert executors.cancel(mirrored, idempotency_key="c-1").detail["replayed"] is True
    assert update.call_count == 1


def test_address_changes_before_shipping(mirrored, store):
    update = store.put(f"{API}/v2/orders/218/shipping_addresses/42").respond(
        200, json=load("shipping_address_updated.json")
    )
    address = executors.Address(
        name="first last", address1="street 1", city="Sydney", country_code="AU", zip="2000"
    )
    executors.update_shipping_address(mirrored, address, idempotency_key="a-1")
    sent = json.loads(update.calls.last.request.content)
    assert sent["street_1"] == "street 1"
    assert sent["country_iso2"] == "AU"
    mirrored.refresh_from_db()
    assert mirrored.shipping_address["city"] == "Sydney"


def test_address_is_refused_once_items_shipped(mirrored, store):
    shipped = {**load("order_shipping_address.json"), "items_shipped": 2}
    store.get(f"{API}/v2/orders/218/shipping_addresses").respond(200, json=[shipped])
    address = executors.Address(name="A B", address1="1 St", city="X", country_code="US")
    with pytest.raises(executors.ExecutionError) as caught:
        executors.update_shipping_address(mirrored, address, idempotency_key="a-2")
    assert caught.value.permanent is True


def test_replacement_is_a_zero_priced_order_made_once(mirrored, store):
    listing = store.get(f"{API}/v2/orders").respond(204)
    create = store.post(f"{API}/v2/orders").respond(200, json={**load("order.json"), "id": 300})
    lines = [executors.LineRequest(sku="S-ORAN")]
    result = executors.create_replacement(mirrored, lines, idempotency_key="r-1")
    assert result.external_id == "300"
    body = json.loads(create.calls.last.request.content)
    assert body["products"][0]["product_id"] == 77
    assert body["products"][0]["price_inc_tax"] == body["products"][0]["price_ex_tax"] == 0
    assert body["products"][0]["product_options"][0] == {"id": 120, "value": "69"}
    assert marker("r-1") in body["staff_notes"]
    assert listing.calls.last.request.url.params["email"] == "janedoe@example.com"

    listing.respond(
        200, json=[{**load("order.json"), "id": 300, "staff_notes": body["staff_notes"]}]
    )
    again = executors.create_replacement(mirrored, lines, idempotency_key="r-1")
    assert again.external_id == "300"
    assert again.detail["replayed"] is True
    assert create.call_count == 1


# --- refunds that name their parts ---------------------------------------------
#
# Order 218 as documented: order product 65 is one "S-ORAN" at 65.23 with tax
# (product 66 is a part of its bundle), shipping address 42 charged 4.32.


def quoted(total: str, *methods) -> dict:
    body = quote(*methods)
    body["data"]["total_refund_amount"] = float(total)
    return body


def refund_routes(store, quote_body: dict):
    store.get(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        200, json={"data": [], "meta": {}}
    )
    quoting = store.post(f"{API}/v3/orders/218/payment_actions/refund_quotes").respond(
        201, json=quote_body
    )
    created = load("refund.json")
    created["data"].update(id=43, order_id=218)
    create = store.post(f"{API}/v3/orders/218/payment_actions/refunds").respond(201, json=created)
    return quoting, create


ORANGE_AND_SHIPPING = executors.RefundParts(
    lines=(executors.LineRequest(sku="S-ORAN"),), shipping=Decimal("4.32")
)


def test_declares_line_shipping_and_store_credit_refunds():
    for capability in (
        Capability.REFUND_LINES,
        Capability.REFUND_SHIPPING,
        Capability.REFUND_TO_STORE_CREDIT,
    ):
        assert capability in BigCommerceAdapter.capabilities


def test_refund_quotes_and_pays_back_named_products_and_shipping(mirrored, store):
    quoting, create = refund_routes(store, quoted("69.55", [STORE_CREDIT], [ONLINE]))
    result = executors.refund(
        mirrored,
        Decimal("69.55"),
        idempotency_key="p-5",
        note="Wrong size",
        parts=ORANGE_AND_SHIPPING,
    )
    expected_items = [
        {"item_type": "PRODUCT", "item_id": 65, "quantity": 1},
        {"item_type": "SHIPPING", "item_id": 42, "amount": 4.32},
    ]
    assert json.loads(quoting.calls.last.request.content) == {"items": expected_items}
    body = json.loads(create.calls.last.request.content)
    assert body["items"] == expected_items
    assert body["payments"] == [{"provider_id": "braintree", "amount": 69.55, "offline": False}]
    assert marker("p-5") in body["reason"]
    assert result.external_id == "bigcommerce:refund:43"
    assert result.detail["lines"] == [{"sku": "S-ORAN", "quantity": 1}]
    assert (result.detail["shipping"], result.detail["to"]) == ("4.32", "original_payment")


def test_refund_to_store_credit_pays_the_store_credit_the_quote_offers(mirrored, store):
    _, create = refund_routes(store, quoted("65.23", [ONLINE], [STORE_CREDIT]))
    parts = executors.RefundParts(
        lines=(executors.LineRequest(sku="S-ORAN"),), to_store_credit=True
    )
    result = executors.refund(
        mirrored, Decimal("65.23"), idempotency_key="p-6", note="", parts=parts
    )
    body = json.loads(create.calls.last.request.content)
    assert body["payments"] == [{"provider_id": "storecredit", "amount": 65.23, "offline": False}]
    assert result.detail["to"] == "store_credit"


def test_store_credit_of_the_whole_amount_without_naming_items(mirrored, store):
    _, create = refund_routes(store, quoted("20.00", [ONLINE], [STORE_CREDIT]))
    parts = executors.RefundParts(to_store_credit=True)
    executors.refund(mirrored, Decimal("20.00"), idempotency_key="p-7", note="Late", parts=parts)
    body = json.loads(create.calls.last.request.content)
    assert body["items"] == [
        {"item_type": "ORDER", "item_id": 218, "amount": 20.0, "reason": "Late"}
    ]
    assert body["payments"] == [{"provider_id": "storecredit", "amount": 20.0, "offline": False}]


def test_store_credit_is_refused_when_the_quote_offers_none(mirrored, store):
    _, create = refund_routes(store, quoted("65.23", [ONLINE]))
    parts = executors.RefundParts(
        lines=(executors.LineRequest(sku="S-ORAN"),), to_store_credit=True
    )
    with pytest.raises(executors.ExecutionError, match="no store credit") as caught:
        executors.refund(mirrored, Decimal("65.23"), idempotency_key="p-8", note="", parts=parts)
    assert caught.value.permanent is True
    assert not create.called
    assert not Refund.objects.exists()


def test_a_quote_other_than_the_approved_amount_is_not_refunded(mirrored, store):
    _, create = refund_routes(store, quoted("69.55", [ONLINE]))
    with pytest.raises(
        executors.ExecutionError, match=r"at 69\.55, not the approved 60\.00"
    ) as caught:
        executors.refund(
            mirrored, Decimal("60.00"), idempotency_key="p-9", note="", parts=ORANGE_AND_SHIPPING
        )
    assert caught.value.permanent is True
    assert not create.called


@pytest.mark.parametrize(
    ("parts", "why"),
    [
        (executors.RefundParts(lines=(executors.LineRequest(sku="ABS"),)), "no line ABS"),
        (
            executors.RefundParts(lines=(executors.LineRequest(sku="S-ORAN", quantity=2),)),
            "holds 1",
        ),
        (executors.RefundParts(shipping=Decimal("5.00")), "exceeds what was charged"),
    ],
)
def test_parts_the_order_cannot_honour_are_refused_before_bigcommerce_is_asked(
    mirrored, store, parts, why
):
    quoting, create = refund_routes(store, quoted("5.00", [ONLINE]))
    with pytest.raises(executors.ExecutionError, match=why) as caught:
        executors.refund(mirrored, Decimal("5.00"), idempotency_key="p-10", note="", parts=parts)
    assert caught.value.permanent is True
    assert not quoting.called
    assert not create.called


def test_a_refund_with_parts_is_made_once_and_found_again_by_its_marker(mirrored, store):
    _, create = refund_routes(store, quoted("69.55", [ONLINE]))
    first = executors.refund(
        mirrored, Decimal("69.55"), idempotency_key="p-11", note="", parts=ORANGE_AND_SHIPPING
    )
    again = executors.refund(
        mirrored, Decimal("69.55"), idempotency_key="p-11", note="", parts=ORANGE_AND_SHIPPING
    )
    assert again.external_id == first.external_id
    assert again.detail["replayed"] is True

    # The mirror row lost: the refund carrying the marker is adopted, not made twice.
    reason = json.loads(create.calls.last.request.content)["reason"]
    Refund.objects.all().delete()
    existing = {**load("refund.json")["data"], "id": 43, "order_id": 218, "reason": reason}
    store.get(f"{API}/v3/orders/218/payment_actions/refunds").respond(
        200, json={"data": [existing], "meta": {}}
    )
    adopted = executors.refund(
        mirrored, Decimal("69.55"), idempotency_key="p-11", note="", parts=ORANGE_AND_SHIPPING
    )
    assert adopted.external_id == "bigcommerce:refund:43"
    assert adopted.detail["replayed"] is True
    assert adopted.detail["lines"] == [{"sku": "S-ORAN", "quantity": 1}]
    assert create.call_count == 1
