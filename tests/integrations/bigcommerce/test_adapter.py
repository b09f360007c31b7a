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
