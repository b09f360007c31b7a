"""Magento as a commerce adapter: reads through the mirror, actions guarded by our own records."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from integrations import executors
from integrations.commerce import Capability, adapter_for_connection, adapter_for_order
from integrations.magento.adapter import AdobeCommerceAdapter, MagentoAdapter, key_tag
from integrations.models import Order, Refund, Shipment
from tests.integrations.magento.conftest import API, load, page

pytestmark = pytest.mark.django_db


def _store(order: dict | None = None, *, creditmemos: list | None = None) -> dict:
    """Mock the store's read endpoints for order 3; returns the routes."""
    order = order or load("order.json")
    return {
        "order": respx.get(f"{API}/orders/3").mock(return_value=httpx.Response(200, json=order)),
        "shipments": respx.get(f"{API}/shipments").mock(
            return_value=httpx.Response(200, json=load("shipments.json"))
        ),
        "creditmemos": respx.get(f"{API}/creditmemos").mock(
            return_value=httpx.Response(200, json=page(creditmemos or []))
        ),
        "invoices": respx.get(f"{API}/invoices").mock(
            return_value=httpx.Response(200, json=load("invoices.json"))
        ),
    }


def _mirrored(connection) -> Order:
    return MagentoAdapter(connection.tenant, connection).mirror_order(3)


def test_capabilities_are_what_each_edition_has():
    assert Capability.REPLACEMENT not in MagentoAdapter.capabilities
    assert Capability.CREATE_RETURN not in MagentoAdapter.capabilities
    assert Capability.WEBHOOKS not in MagentoAdapter.capabilities
    assert {Capability.CREATE_RETURN, Capability.WEBHOOKS} <= AdobeCommerceAdapter.capabilities
    assert Capability.REPLACEMENT not in AdobeCommerceAdapter.capabilities


def test_connections_pick_their_edition(magento_connection, adobe_connection):
    assert type(adapter_for_connection(magento_connection)) is MagentoAdapter
    assert type(adapter_for_connection(adobe_connection)) is AdobeCommerceAdapter


@respx.mock
def test_an_order_not_yet_mirrored_is_found_on_the_store_with_its_tracking(magento_connection):
    search = respx.get(f"{API}/orders").mock(
        return_value=httpx.Response(200, json=page([load("order.json")]))
    )
    _store()
    adapter = MagentoAdapter(magento_connection.tenant, magento_connection)

    order = adapter.find_order("#000000003")

    assert order.number == "000000003"
    assert order.external_id == "3"
    assert order.total == Decimal("36.39")
    assert order.shipping_total == Decimal("5.00")
    assert order.shipping_address == {
        "name": "Veronica Costello",
        "address1": "6146 Honey Bluff Parkway",
        "city": "Calder",
        "province": "Michigan",
        "province_code": "MI",
        "zip": "49628-7978",
        "country_code": "US",
        "phone": "(555) 229-3326",
    }
    # The configurable product's child row is not a second line.
    assert list(order.lines.values_list("sku", "quantity")) == [("WS12-M-Orange", 1)]
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1Z999AA10123456784")
    assert "000000003" in search.calls.last.request.url.query.decode()
    # Found once, the mirror answers after that.
    assert adapter.find_order("000000003") == order
    assert search.call_count == 1


@respx.mock
def test_refund_goes_back_through_the_invoice_once(magento_connection):
    routes = _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(return_value=httpx.Response(200, json=9))

    first = executors.refund(order, Decimal("12.50"), idempotency_key="p-1", note="late parcel")
    again = executors.refund(order, Decimal("12.50"), idempotency_key="p-1", note="late parcel")

    assert refund.call_count == 1
    assert first.external_id == again.external_id == "creditmemo:9"
    assert again.detail["replayed"] is True
    sent = json.loads(refund.calls.last.request.content)
    assert sent["isOnline"] is True
    assert sent["notify"] is False
    assert sent["items"] == [{"order_item_id": 5, "qty": 0}]
    assert sent["arguments"]["adjustment_positive"] == 12.5
    assert sent["arguments"]["shipping_amount"] == 0
    assert key_tag("p-1") in sent["comment"]["comment"]
    assert Refund.objects.get(order=order).amount == Decimal("12.50")
    assert routes["invoices"].called


@respx.mock
def test_a_refund_whose_answer_was_lost_is_adopted_not_repeated(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(order, Decimal("12.50"), idempotency_key="p-1", note="late parcel")
    assert caught.value.permanent is False

    # The store did make it: its comment carries our tag.
    made = load("creditmemos.json")["items"][0]
    made |= {"entity_id": 11, "grand_total": 12.5}
    made["comments"][0]["comment"] = f"late parcel [{key_tag('p-1')}]"
    respx.get(f"{API}/creditmemos").mock(return_value=httpx.Response(200, json=page([made])))

    result = executors.refund(order, Decimal("12.50"), idempotency_key="p-1", note="late parcel")

    assert result.external_id == "creditmemo:11"
    assert result.detail["replayed"] is True
    assert refund.call_count == 1
    assert Refund.objects.get(order=order).idempotency_key == "p-1"


@respx.mock
def test_offline_payment_methods_get_an_offline_credit_memo(magento_connection):
    paid_by_check = load("order.json")
    paid_by_check["payment"]["method"] = "checkmo"
    _store(paid_by_check)
    order = _mirrored(magento_connection)
    offline = respx.post(f"{API}/order/3/refund").mock(return_value=httpx.Response(200, json=4))

    result = executors.refund(order, Decimal("5.00"), idempotency_key="p-2", note="")

    assert offline.call_count == 1
    assert result.detail["online"] is False
    assert "isOnline" not in json.loads(offline.calls.last.request.content)


@respx.mock
def test_the_stores_refusal_reaches_the_case_in_its_own_words(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    respx.post(f"{API}/invoice/3/refund").mock(
        return_value=httpx.Response(
            400,
            json={
                "message": "The most money available to refund is %1.",
                "parameters": ["$26.39"],
            },
        )
    )
    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(order, Decimal("30.00"), idempotency_key="p-3", note="")
    assert caught.value.permanent is True
    assert "The most money available to refund is $26.39." in str(caught.value)
    assert not Refund.objects.exists()


@respx.mock
def test_credit_memos_made_in_the_admin_are_mirrored_once(magento_connection):
    refunded = load("order.json") | {"total_refunded": 10}
    _store(refunded, creditmemos=load("creditmemos.json")["items"])
    _mirrored(magento_connection)
    _mirrored(magento_connection)
    refund = Refund.objects.get()
    assert (refund.amount, refund.external_id) == (Decimal("10.00"), "creditmemo:7")
    assert refund.note == "Goodwill for the late parcel"


@respx.mock
def test_cancel_cancels_once(magento_connection):
    routes = _store()
    order = _mirrored(magento_connection)
    cancelled = load("order.json") | {"state": "canceled", "status": "canceled"}
    cancel = respx.post(f"{API}/orders/3/cancel").mock(
        side_effect=lambda request: (
            routes["order"].mock(return_value=httpx.Response(200, json=cancelled)),
            httpx.Response(200, json=True),
        )[1]
    )

    executors.cancel(order, idempotency_key="c-1")
    again = executors.cancel(order, idempotency_key="c-1")

    assert cancel.call_count == 1
    assert again.detail["replayed"] is True
    order.refresh_from_db()
    assert order.cancelled_at is not None


@respx.mock
def test_a_completed_order_cannot_be_cancelled(magento_connection):
    _store(load("order.json") | {"state": "complete", "status": "complete"})
    order = _mirrored(magento_connection)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-2")
    assert caught.value.permanent is True
    assert "complete" in str(caught.value)


@respx.mock
def test_magento_refusing_to_cancel_is_permanent(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    respx.post(f"{API}/orders/3/cancel").mock(return_value=httpx.Response(200, json=False))
    with pytest.raises(executors.ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-3")
    assert caught.value.permanent is True


@respx.mock
def test_address_is_saved_on_the_orders_own_address_entity(magento_connection):
    unshipped = load("order.json")
    _store(unshipped)
    respx.get(f"{API}/shipments").mock(return_value=httpx.Response(200, json=page([])))
    order = _mirrored(magento_connection)
    save = respx.put(f"{API}/orders/3").mock(
        return_value=httpx.Response(200, json={"entity_id": 6})
    )
    address = executors.Address(
        name="Veronica Costello",
        address1="1 Market St",
        address2="Suite 5",
        city="San Francisco",
        province_code="CA",
        zip="94105",
        country_code="US",
    )

    executors.update_shipping_address(order, address, idempotency_key="a-1")

    entity = json.loads(save.calls.last.request.content)["entity"]
    assert entity["entity_id"] == 6
    assert entity["parent_id"] == 3
    assert entity["address_type"] == "shipping"
    assert entity["street"] == ["1 Market St", "Suite 5"]
    assert (entity["city"], entity["region_code"], entity["postcode"]) == (
        "San Francisco",
        "CA",
        "94105",
    )
    assert "region_id" not in entity  # Michigan's id would contradict CA
    order.refresh_from_db()
    assert order.shipping_address["city"] == "San Francisco"


@respx.mock
def test_address_cannot_change_once_shipped(magento_connection):
    shipped = load("order.json")
    shipped["items"][0]["qty_shipped"] = 1
    _store(shipped)
    order = _mirrored(magento_connection)
    save = respx.put(f"{API}/orders/3")
    address = executors.Address(name="A B", address1="x", city="y", country_code="US")
    with pytest.raises(executors.ExecutionError) as caught:
        executors.update_shipping_address(order, address, idempotency_key="a-2")
    assert caught.value.permanent is True
    assert not save.called


@respx.mock
def test_replacements_are_refused_by_name(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_replacement(
            order, [executors.LineRequest(sku="WS12-M-Orange")], idempotency_key="r-1"
        )
    assert caught.value.permanent is True
    assert "magento connections cannot replacement" in str(caught.value)


@respx.mock
def test_adobe_commerce_creates_an_rma_once(adobe_connection):
    shipped = load("order.json")
    shipped["items"][0]["qty_shipped"] = 1
    _store(shipped)
    order = AdobeCommerceAdapter(adobe_connection.tenant, adobe_connection).mirror_order(3)
    assert isinstance(adapter_for_order(order), AdobeCommerceAdapter)
    for attribute, options in {
        "resolution": [{"label": "Exchange", "value": "4"}, {"label": "Refund", "value": "5"}],
        "condition": [{"label": "Unopened", "value": "7"}, {"label": "Opened", "value": "8"}],
        "reason": [{"label": "Wrong Color", "value": "10"}, {"label": "Other", "value": "12"}],
    }.items():
        respx.get(f"{API}/returnsAttributeMetadata/{attribute}").mock(
            return_value=httpx.Response(200, json={"attribute_code": attribute, "options": options})
        )
    returns = respx.get(f"{API}/returns").mock(return_value=httpx.Response(200, json=page([])))
    create = respx.post(f"{API}/returns").mock(
        return_value=httpx.Response(200, json={"entity_id": 21, "increment_id": "000000021"})
    )

    result = executors.create_return(
        order,
        [executors.LineRequest(sku="WS12-M-Orange", reason="wrong color")],
        idempotency_key="ret-1",
        note="too small",
    )

    assert (result.external_id, result.detail["replayed"]) == ("21", False)
    rma = json.loads(create.calls.last.request.content)["rmaDataObject"]
    assert (rma["order_id"], rma["order_increment_id"], rma["store_id"]) == (3, "000000003", 1)
    assert rma["items"] == [
        {
            "order_item_id": 5,
            "qty_requested": 1,
            "resolution": "5",
            "condition": "8",
            "reason": "10",
            "status": "pending",
        }
    ]
    assert key_tag("ret-1") in rma["comments"][0]["comment"]

    made = {"entity_id": 21, "increment_id": "000000021", "comments": rma["comments"]}
    returns.mock(return_value=httpx.Response(200, json=page([made])))
    again = executors.create_return(
        order, [executors.LineRequest(sku="WS12-M-Orange")], idempotency_key="ret-1"
    )
    assert again.detail["replayed"] is True
    assert create.call_count == 1


@respx.mock
def test_magento_open_source_has_no_returns(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    with pytest.raises(executors.ExecutionError) as caught:
        executors.create_return(
            order, [executors.LineRequest(sku="WS12-M-Orange")], idempotency_key="ret-2"
        )
    assert caught.value.permanent is True


# --- refunds that name what they pay back -------------------------------------


def _tee(quantity: int = 1) -> tuple[executors.LineRequest, ...]:
    return (executors.LineRequest(sku="WS12-M-Orange", quantity=quantity),)


def test_both_editions_refund_lines_and_shipping_but_not_to_store_credit():
    for edition in (MagentoAdapter, AdobeCommerceAdapter):
        assert {Capability.REFUND_LINES, Capability.REFUND_SHIPPING} <= edition.capabilities
        assert Capability.REFUND_TO_STORE_CREDIT not in edition.capabilities


@respx.mock
def test_a_refund_naming_its_item_and_shipping_credits_and_restocks_them_once(
    magento_connection,
):
    _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(return_value=httpx.Response(200, json=12))
    parts = executors.RefundParts(lines=_tee(), shipping=Decimal("5.00"))

    first = executors.refund(
        order, Decimal("36.39"), idempotency_key="p-7", note="wrong size", parts=parts
    )
    again = executors.refund(
        order, Decimal("36.39"), idempotency_key="p-7", note="wrong size", parts=parts
    )

    assert refund.call_count == 1
    assert first.external_id == again.external_id == "creditmemo:12"
    assert again.detail["replayed"] is True
    sent = json.loads(refund.calls.last.request.content)
    # The configurable line, not its child row, carries the quantity.
    assert sent["items"] == [{"order_item_id": 5, "qty": 1}]
    assert sent["arguments"] == {
        "shipping_amount": 5.0,
        "adjustment_positive": 0.0,
        "adjustment_negative": 0.0,
        "extension_attributes": {"return_to_stock_items": [5]},
    }
    assert sent["isOnline"] is True
    assert key_tag("p-7") in sent["comment"]["comment"]
    assert first.detail["lines"] == [{"sku": "WS12-M-Orange", "quantity": 1}]
    assert first.detail["shipping"] == again.detail["shipping"] == "5.00"
    assert first.detail["to"] == again.detail["to"] == "original_payment"
    assert Refund.objects.get(order=order).amount == Decimal("36.39")


@respx.mock
def test_less_than_the_item_is_worth_is_taken_off_as_a_negative_adjustment(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(return_value=httpx.Response(200, json=13))

    executors.refund(
        order,
        Decimal("20.00"),
        idempotency_key="p-8",
        note="",
        parts=executors.RefundParts(lines=_tee()),
    )

    arguments = json.loads(refund.calls.last.request.content)["arguments"]
    # The tee is worth 31.39 with its tax; Magento adds the tax itself.
    assert arguments["adjustment_negative"] == 11.39
    assert arguments["adjustment_positive"] == 0
    assert arguments["shipping_amount"] == 0


@respx.mock
def test_shipping_alone_is_credited_with_its_tax_and_the_rest_as_an_adjustment(
    magento_connection,
):
    taxed_shipping = load("order.json") | {"shipping_tax_amount": 0.5}
    _store(taxed_shipping)
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(return_value=httpx.Response(200, json=14))

    executors.refund(
        order,
        Decimal("8.00"),
        idempotency_key="p-9",
        note="",
        parts=executors.RefundParts(shipping=Decimal("5.00")),
    )

    sent = json.loads(refund.calls.last.request.content)
    assert sent["items"] == [{"order_item_id": 5, "qty": 0}]
    assert sent["arguments"]["shipping_amount"] == 5.0
    assert sent["arguments"]["adjustment_positive"] == 2.5  # 8.00 less 5.00 and its 0.50 tax
    assert sent["arguments"]["extension_attributes"] == {"return_to_stock_items": []}


@respx.mock
def test_a_refund_with_parts_whose_answer_was_lost_is_adopted_not_repeated(magento_connection):
    _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund").mock(side_effect=httpx.ReadTimeout("slow"))
    parts = executors.RefundParts(lines=_tee(), shipping=Decimal("5.00"))
    with pytest.raises(executors.ExecutionError):
        executors.refund(order, Decimal("36.39"), idempotency_key="p-10", note="", parts=parts)

    made = load("creditmemos.json")["items"][0]
    made |= {"entity_id": 15, "grand_total": 36.39}
    made["comments"][0]["comment"] = f"[{key_tag('p-10')}]"
    respx.get(f"{API}/creditmemos").mock(return_value=httpx.Response(200, json=page([made])))

    result = executors.refund(order, Decimal("36.39"), idempotency_key="p-10", note="", parts=parts)

    assert (result.external_id, result.detail["replayed"]) == ("creditmemo:15", True)
    assert result.detail["shipping"] == "5.00"
    assert refund.call_count == 1


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            {"lines": (executors.LineRequest(sku="NOT-ON-ORDER"),)},
            "NOT-ON-ORDER is not on order #000000003",
        ),
        ({"lines": _tee(quantity=2)}, "fewer than 2 of WS12-M-Orange left to refund"),
        ({"shipping": Decimal("6.00")}, "exceeds what is left of the shipping"),
        ({"lines": _tee()}, "exceeds the items and shipping it names \\(31.39\\)"),
    ],
)
@respx.mock
def test_parts_the_order_does_not_bear_are_refused_before_magento_is_asked(
    magento_connection, parts, message
):
    _store()
    order = _mirrored(magento_connection)
    refund = respx.post(f"{API}/invoice/3/refund")

    with pytest.raises(executors.ExecutionError, match=message) as caught:
        executors.refund(
            order,
            Decimal("36.00"),
            idempotency_key="p-11",
            note="",
            parts=executors.RefundParts(**parts),
        )

    assert caught.value.permanent is True
    assert not refund.called
    assert not Refund.objects.exists()


@respx.mock
def test_a_refund_to_store_credit_is_refused_without_asking_the_store(adobe_connection):
    _store()
    order = AdobeCommerceAdapter(adobe_connection.tenant, adobe_connection).mirror_order(3)
    refund = respx.post(f"{API}/invoice/3/refund")

    with pytest.raises(executors.ExecutionError) as caught:
        executors.refund(
            order,
            Decimal("10.00"),
            idempotency_key="p-12",
            note="",
            parts=executors.RefundParts(to_store_credit=True),
        )

    assert caught.value.permanent is True
    assert not refund.called
