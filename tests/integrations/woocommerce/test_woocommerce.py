"""WooCommerce: signed webhooks into the mirror, the REST client's paging and
errors, and each adapter action landing once."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from integrations import executors
from integrations.commerce import Capability, ExecutionError
from integrations.models import Order, Refund, WebhookEvent
from integrations.webhooks import sign, verify_base64_hmac
from integrations.woocommerce.adapter import WooCommerceAdapter, marker
from integrations.woocommerce.client import WooCommerceClient
from tests.integrations.woocommerce.conftest import API, STORE, deliver, load, order

pytestmark = pytest.mark.django_db


def test_signature_matches_an_independently_computed_vector():
    body = b'{"id":727,"status":"processing"}'
    expected = "e9ZNnVTXnzFtp2DrdDq3GFjA/3JZXR98mfJQLNI9JD8="
    assert sign("wc_vector_secret", body) == expected
    assert verify_base64_hmac("wc_vector_secret", body, expected)


def test_order_created_mirrors_the_documented_order(client, wc_connection):
    response = deliver(client, wc_connection, "order.created", order())
    assert response.status_code == 200
    assert response.applied == ["processed"]
    mirrored = Order.objects.get()
    assert (mirrored.number, mirrored.external_id) == ("727", "727")
    assert mirrored.total == Decimal("29.35")
    assert mirrored.subtotal == Decimal("18.00")
    assert mirrored.shipping_total == Decimal("10.00")
    assert mirrored.placed_at.isoformat() == "2017-03-22T19:28:02+00:00"
    assert mirrored.shipping_address["address1"] == "969 Market"
    # A line without a SKU is known by its variation, else its product id.
    assert sorted(mirrored.lines.values_list("sku", "quantity")) == [("93", 2), ("Bar3", 1)]
    assert mirrored.customer.email == "john.doe@example.com"


def test_tracking_numbers_come_from_the_shipment_tracking_meta(client, wc_connection):
    tracked = order(
        meta_data=[
            {
                "id": 1,
                "key": "_wc_shipment_tracking_items",
                "value": [
                    {
                        "tracking_provider": "ups",
                        "custom_tracking_provider": "",
                        "tracking_number": "1Z999AA10123456784",
                        "date_shipped": "1490212800",
                        "tracking_id": "a1b2",
                    }
                ],
            }
        ]
    )
    deliver(client, wc_connection, "order.updated", tracked)
    shipment = Order.objects.get().shipments.get()
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1Z999AA10123456784")


def test_bad_signature_is_401_and_kept(client, wc_connection):
    response = deliver(client, wc_connection, "order.created", order(), secret="wrong")
    assert response.status_code == 401
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED
    assert not Order.objects.exists()


def test_malformed_body_is_400(client, wc_connection):
    response = deliver(client, wc_connection, "order.created", None, body=b'{"id": 727,')
    assert response.status_code == 400


def test_redelivery_is_a_duplicate_and_refunds_count_once(client, wc_connection):
    refunded = load("order_723_refunded.json")
    first = deliver(client, wc_connection, "order.updated", refunded, delivery_id="d-9")
    again = deliver(client, wc_connection, "order.updated", refunded, delivery_id="d-9")
    later = deliver(client, wc_connection, "order.updated", refunded, delivery_id="d-10")
    assert first.status_code == again.status_code == later.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [
        Decimal("9.00"),
        Decimal("10.00"),
    ]


def test_a_stale_update_never_overwrites_newer_state(client, wc_connection):
    deliver(client, wc_connection, "order.updated", order(status="completed"), delivery_id="n")
    stale = order(status="processing", date_modified_gmt="2017-03-22T19:00:00")
    response = deliver(client, wc_connection, "order.updated", stale, delivery_id="s")
    assert response.applied == ["ignored"]
    assert Order.objects.get().fulfillment_status == "completed"


# --- client ------------------------------------------------------------------


def wc(**kwargs) -> WooCommerceClient:
    return WooCommerceClient(STORE, "ck_test", "cs_test", sleep=lambda s: None, **kwargs)


def test_keys_go_as_basic_auth_and_lists_follow_total_pages(store):
    route = store.get(f"{API}/orders/723/refunds").mock(
        side_effect=[
            httpx.Response(200, json=[{"id": 726}], headers={"X-WP-TotalPages": "2"}),
            httpx.Response(200, json=[{"id": 724}], headers={"X-WP-TotalPages": "2"}),
        ]
    )
    assert [r["id"] for r in wc().refunds(723)] == [726, 724]
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic Y2tfdGVzdDpjc190ZXN0"
    assert request.url.params["page"] == "2"


def test_429_waits_what_the_host_asks(store):
    slept: list[float] = []
    store.get(f"{API}/orders/727").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=order()),
        ]
    )
    client = WooCommerceClient(STORE, "ck", "cs", sleep=slept.append)
    assert client.order(727)["id"] == 727
    assert 3.0 in slept


def test_unknown_order_and_error_messages(store):
    store.get(f"{API}/orders/1").respond(404, json=load("error_invalid_id.json"))
    assert wc().order(1) is None
    store.put(f"{API}/orders/2").respond(
        400,
        json={
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): status",
            "data": {"status": 400},
        },
    )
    with pytest.raises(ExecutionError, match="Invalid parameter") as caught:
        wc().update_order(2, {"status": "nope"})
    assert caught.value.permanent is True


def test_plain_http_store_is_refused():
    with pytest.raises(ExecutionError, match="https"):
        WooCommerceClient.for_credentials(
            {"store_url": "http://shop.example.com", "consumer_key": "a", "consumer_secret": "b"}
        )


# --- adapter -------------------------------------------------------------------


@pytest.fixture
def mirrored(wc_connection, store):
    store.get(f"{API}/orders/727").respond(200, json=order())
    found = WooCommerceAdapter(wc_connection.tenant, wc_connection).find_order("727")
    store.calls.reset()
    return found


def test_declares_no_returns(mirrored):
    assert not WooCommerceAdapter.capabilities & {Capability.CREATE_RETURN}
    with pytest.raises(executors.ExecutionError):
        executors.create_return(mirrored, [executors.LineRequest(sku="Bar3")], idempotency_key="k")


def test_refund_is_made_once_and_found_again_by_its_marker(mirrored, store):
    store.get(f"{API}/orders/727/refunds").respond(200, json=[], headers={"X-WP-TotalPages": "1"})
    create = store.post(f"{API}/orders/727/refunds").respond(
        201, json={"id": 730, "amount": "5.00", "reason": "x", "refunded_payment": True}
    )
    result = executors.refund(mirrored, Decimal("5.00"), idempotency_key="p-1", note="Late")
    assert result.external_id == "woocommerce:refund:730"
    body = json.loads(create.calls.last.request.content)
    assert body["amount"] == "5.00"
    assert body["api_refund"] is True
    assert marker("p-1") in body["reason"]

    # The mirror row lost (a crash before it was written): the marker finds the refund.
    Refund.objects.all().delete()
    store.get(f"{API}/orders/727/refunds").respond(
        200, json=[{"id": 730, "reason": body["reason"]}], headers={"X-WP-TotalPages": "1"}
    )
    again = executors.refund(mirrored, Decimal("5.00"), idempotency_key="p-1", note="Late")
    assert again.detail["replayed"] is True
    assert create.call_count == 1


def test_cancel_once_and_not_after_completion(mirrored, store):
    update = store.put(f"{API}/orders/727").respond(200, json=order(status="cancelled"))
    store.get(f"{API}/orders/727").respond(200, json=order())
    executors.cancel(mirrored, idempotency_key="c-1")
    assert json.loads(update.calls.last.request.content) == {"status": "cancelled"}
    store.get(f"{API}/orders/727").respond(200, json=order(status="cancelled"))
    assert executors.cancel(mirrored, idempotency_key="c-1").detail["replayed"] is True
    store.get(f"{API}/orders/727").respond(200, json=order(status="completed"))
    with pytest.raises(executors.ExecutionError):
        executors.cancel(mirrored, idempotency_key="c-2")
    assert update.call_count == 1


def test_address_change_before_shipping(mirrored, store):
    store.get(f"{API}/orders/727").respond(200, json=order())
    new_shipping = {**order()["shipping"], "address_1": "1 Infinite Loop", "city": "Cupertino"}
    update = store.put(f"{API}/orders/727").respond(
        200, json=order(shipping=new_shipping, date_modified_gmt="2017-03-23T10:00:00")
    )
    address = executors.Address(
        name="John Doe",
        address1="1 Infinite Loop",
        city="Cupertino",
        country_code="US",
        province_code="CA",
        zip="95014",
    )
    executors.update_shipping_address(mirrored, address, idempotency_key="a-1")
    sent = json.loads(update.calls.last.request.content)["shipping"]
    assert (sent["address_1"], sent["state"], sent["country"]) == ("1 Infinite Loop", "CA", "US")
    mirrored.refresh_from_db()
    assert mirrored.shipping_address["city"] == "Cupertino"


def test_replacement_is_free_and_made_once(mirrored, store):
    store.get(f"{API}/orders/727").respond(200, json=order())
    listing = store.get(f"{API}/orders").respond(200, json=[])
    create = store.post(f"{API}/orders").respond(201, json=order(id=731, number="731"))
    lines = [executors.LineRequest(sku="Bar3")]
    assert executors.create_replacement(mirrored, lines, idempotency_key="r-1").external_id == "731"
    body = json.loads(create.calls.last.request.content)
    assert body["line_items"] == [
        {"product_id": 22, "variation_id": 23, "quantity": 1, "subtotal": "0.00", "total": "0.00"}
    ]
    listing.respond(200, json=[order(id=731, meta_data=body["meta_data"])])
    again = executors.create_replacement(mirrored, lines, idempotency_key="r-1")
    assert again.detail["replayed"] is True
    assert create.call_count == 1


def test_connection_check_reports_the_store(wc_connection, store):
    from integrations.connection_checks import check

    store.get(f"{API}/system_status").respond(
        200, json={"environment": {"site_url": STORE, "version": "9.0.0"}}
    )
    result = check(wc_connection)
    assert result.ok
    assert result.message == f"Reached {STORE} (WooCommerce 9.0.0)."


# --- refunds that name their parts ---------------------------------------------
#
# Order 727 as documented: line 315 is two of product 93 (no SKU) at 6.00 with
# 0.45 tax, line 316 one "Bar3" at 12.00 with 0.90 tax, shipping line 317 10.00.


def no_refunds_yet(store):
    store.get(f"{API}/orders/727/refunds").respond(200, json=[], headers={"X-WP-TotalPages": "1"})
    return store.post(f"{API}/orders/727/refunds").respond(
        201, json={"id": 731, "amount": "25.00", "reason": "x", "refunded_payment": True}
    )


def test_declares_line_and_shipping_refunds_but_no_store_credit():
    assert Capability.REFUND_LINES in WooCommerceAdapter.capabilities
    assert Capability.REFUND_SHIPPING in WooCommerceAdapter.capabilities
    assert Capability.REFUND_TO_STORE_CREDIT not in WooCommerceAdapter.capabilities


def test_refund_names_line_ids_quantities_shipping_and_restocks(mirrored, store):
    create = no_refunds_yet(store)
    parts = executors.RefundParts(
        lines=(executors.LineRequest(sku="Bar3"), executors.LineRequest(sku="93")),
        shipping=Decimal("10.00"),
    )
    result = executors.refund(
        mirrored, Decimal("25.00"), idempotency_key="p-9", note="Damaged", parts=parts
    )
    body = json.loads(create.calls.last.request.content)
    assert body["line_items"] == [
        {"id": 316, "quantity": 1, "refund_total": "12.00"},
        # One of the two units: half the line's total.
        {"id": 315, "quantity": 1, "refund_total": "3.00"},
        {"id": 317, "refund_total": "10.00"},
    ]
    assert body["api_restock"] is True
    assert body["api_refund"] is True
    assert body["amount"] == "25.00"
    assert marker("p-9") in body["reason"]
    assert result.external_id == "woocommerce:refund:731"
    assert result.detail["lines"] == [{"sku": "Bar3", "quantity": 1}, {"sku": "93", "quantity": 1}]
    assert (result.detail["shipping"], result.detail["to"]) == ("10.00", "original_payment")


def test_shipping_alone_restocks_nothing(mirrored, store):
    create = no_refunds_yet(store)
    parts = executors.RefundParts(shipping=Decimal("4.00"))
    executors.refund(mirrored, Decimal("4.00"), idempotency_key="p-10", note="", parts=parts)
    body = json.loads(create.calls.last.request.content)
    assert body["line_items"] == [{"id": 317, "refund_total": "4.00"}]
    assert body["api_restock"] is False


def test_a_refund_with_parts_is_made_once_and_found_again_by_its_marker(mirrored, store):
    create = no_refunds_yet(store)
    parts = executors.RefundParts(lines=(executors.LineRequest(sku="Bar3"),))
    executors.refund(mirrored, Decimal("12.90"), idempotency_key="p-11", note="", parts=parts)
    reason = json.loads(create.calls.last.request.content)["reason"]

    again = executors.refund(
        mirrored, Decimal("12.90"), idempotency_key="p-11", note="", parts=parts
    )
    assert again.detail["replayed"] is True

    # The mirror row lost: the store's refund carrying the marker is adopted.
    Refund.objects.all().delete()
    store.get(f"{API}/orders/727/refunds").respond(
        200, json=[{"id": 731, "reason": reason}], headers={"X-WP-TotalPages": "1"}
    )
    adopted = executors.refund(
        mirrored, Decimal("12.90"), idempotency_key="p-11", note="", parts=parts
    )
    assert adopted.external_id == "woocommerce:refund:731"
    assert adopted.detail["replayed"] is True
    assert adopted.detail["lines"] == [{"sku": "Bar3", "quantity": 1}]
    assert create.call_count == 1


@pytest.mark.parametrize(
    ("amount", "parts", "why"),
    [
        ("5.00", executors.RefundParts(lines=(executors.LineRequest(sku="NOPE"),)), "no line"),
        (
            "5.00",
            executors.RefundParts(lines=(executors.LineRequest(sku="93", quantity=3),)),
            "holds 2",
        ),
        ("11.00", executors.RefundParts(shipping=Decimal("11.00")), "exceeds what was charged"),
        (
            "13.00",
            executors.RefundParts(lines=(executors.LineRequest(sku="Bar3"),)),
            "exceeds the items",
        ),
    ],
)
def test_parts_the_order_cannot_honour_are_refused_before_the_store_is_asked(
    mirrored, store, amount, parts, why
):
    create = no_refunds_yet(store)
    with pytest.raises(ExecutionError, match=why) as caught:
        executors.refund(mirrored, Decimal(amount), idempotency_key="p-12", note="", parts=parts)
    assert caught.value.permanent is True
    assert not create.called


def test_store_credit_is_refused_without_asking_the_store(mirrored, store):
    listing = store.get(f"{API}/orders/727/refunds").respond(200, json=[])
    create = store.post(f"{API}/orders/727/refunds")
    with pytest.raises(ExecutionError) as caught:
        executors.refund(
            mirrored,
            Decimal("5.00"),
            idempotency_key="p-13",
            note="",
            parts=executors.RefundParts(to_store_credit=True),
        )
    assert caught.value.permanent is True
    assert not listing.called
    assert not create.called
