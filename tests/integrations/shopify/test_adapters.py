"""Adapters declare capabilities; executors dispatch through them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations import executors
from integrations.commerce import Capability, adapter_for_order
from integrations.models import Connection, Order, Refund
from integrations.sandbox.store import SandboxStore
from integrations.shopify.adapter import ShopifyAdapter
from tests.factories import make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_sandbox_orders_use_the_sandbox_store():
    order = make_order(make_tenant())
    adapter = adapter_for_order(order)
    assert isinstance(adapter, SandboxStore)
    assert adapter.supports(Capability.REFUND)
    assert not adapter.supports(Capability.WEBHOOKS)


def test_shopify_declares_every_capability(shop_connection):
    order = make_order(shop_connection.tenant)
    order.connection = shop_connection
    assert isinstance(adapter_for_order(order), ShopifyAdapter)
    assert ShopifyAdapter.capabilities == frozenset(Capability)


def test_an_action_the_store_lacks_is_a_permanent_error_naming_it(monkeypatch):
    monkeypatch.setattr(
        SandboxStore, "capabilities", SandboxStore.capabilities - {Capability.CREATE_RETURN}
    )
    order = make_order(make_tenant())
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(order, [executors.LineRequest(sku="SKU-1")], idempotency_key="k-1")
    assert caught.value.permanent is True
    assert "create return" in str(caught.value)


def test_sandbox_refund_is_idempotent_and_bounded():
    order = make_order(make_tenant(), total="50.00")
    first = executors.refund(order, Decimal("30.00"), idempotency_key="p-1", note="")
    again = executors.refund(order, Decimal("30.00"), idempotency_key="p-1", note="")
    assert first.external_id == again.external_id
    assert again.detail["replayed"] is True
    assert Refund.objects.filter(order=order).count() == 1
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(order, Decimal("30.00"), idempotency_key="p-2", note="")
    assert caught.value.permanent is True


def test_sandbox_cancel_twice_is_once_and_refused_after_shipping():
    order = make_order(make_tenant(), shipment_status=None)
    executors.cancel(order, idempotency_key="c-1")
    assert executors.cancel(order, idempotency_key="c-1").detail["replayed"] is True
    shipped = make_order(make_tenant())  # has an in-transit shipment
    with pytest.raises(executors.ExecutionError):
        executors.cancel(shipped, idempotency_key="c-2")


def test_sandbox_address_change_before_shipping():
    order = make_order(make_tenant(), shipment_status=None)
    address = executors.Address(
        name="Ada Lovelace", address1="12 St James's Sq", city="London", country_code="GB"
    )
    executors.update_shipping_address(order, address, idempotency_key="a-1")
    order.refresh_from_db()
    assert order.shipping_address["country_code"] == "GB"


def test_unknown_provider_is_a_permanent_error():
    tenant = make_tenant()
    connection = Connection.objects.create(
        tenant=tenant, provider="sandbox_carrier", kind="carrier", name="feed"
    )
    order = make_order(tenant)
    Order.objects.filter(pk=order.pk).update(connection=connection)
    order.refresh_from_db()
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(order, Decimal("1.00"), idempotency_key="x", note="")
    assert caught.value.permanent is True
