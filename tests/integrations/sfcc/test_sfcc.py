"""Salesforce B2C Commerce: Account Manager tokens, the admin Orders API, the adapter."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from integrations import connection_checks, executors, providers
from integrations.commerce import Capability, adapter_for_connection
from integrations.models import Connection, Shipment
from integrations.ratelimit import SharedBucket
from integrations.sfcc.adapter import SfccAdapter
from integrations.sfcc.client import TOKEN_URL, SfccClient
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

ORG = "f_ecom_zzxy_prd"
API = f"https://kv7kzm78.api.commercecloud.salesforce.com/checkout/orders/v1/organizations/{ORG}"
ORDER_URL = f"{API}/orders/00000410"


def load() -> dict:
    return json.loads((Path(__file__).parent / "fixtures" / "order.json").read_text())


def _token(value: str = "am-token-1") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": value,
            "scope": "sfcc.orders.rw",
            "token_type": "Bearer",
            "expires_in": 1799,
        },
    )


@pytest.fixture
def connection(db):
    client_id = f"client-{uuid.uuid4().hex[:8]}"  # a token cache of its own
    connection = Connection.objects.create(
        tenant=make_tenant(),
        provider="sfcc",
        kind=Connection.Kind.COMMERCE,
        name="SFCC",
        credentials={
            "short_code": "kv7kzm78",
            "organization_id": ORG,
            "site_id": "RefArch",
            "client_id": client_id,
            "client_secret": "s3cret",
        },
    )
    yield connection
    SharedBucket(f"sfcc:{ORG}").reset()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(connection, sleeps):
    return SfccClient.for_credentials(
        connection.credentials, http=httpx.Client(), sleep=sleeps.append
    )


@respx.mock
def test_token_is_a_client_credentials_grant_scoped_to_the_tenant_and_shared(client):
    token = respx.post(TOKEN_URL).mock(return_value=_token())
    route = respx.get(ORDER_URL).mock(return_value=httpx.Response(200, json=load()))
    client.order("00000410")
    client.order("00000410")
    assert token.call_count == 1  # cached for every worker
    sent = token.calls.last.request
    assert parse_qs(sent.content.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["SALESFORCE_COMMERCE_API:zzxy_prd sfcc.orders.rw"],
    }
    user, _, secret = (
        base64.b64decode(sent.headers["Authorization"].split()[1]).decode().partition(":")
    )
    assert (user, secret) == (client.client_id, "s3cret")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer am-token-1"
    assert request.url.params["siteId"] == "RefArch"


@respx.mock
def test_an_expired_token_is_replaced_once(client):
    respx.post(TOKEN_URL).mock(side_effect=[_token("old"), _token("new")])
    route = respx.get(ORDER_URL).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json=load())]
    )
    assert client.order("00000410")["orderNo"] == "00000410"
    assert route.calls.last.request.headers["Authorization"] == "Bearer new"


@respx.mock
def test_429_waits_for_retry_after(client, sleeps):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.get(ORDER_URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=load()),
        ]
    )
    client.order("00000410")
    assert 2.0 in sleeps


@respx.mock
def test_a_refused_api_client_is_permanent_with_account_managers_words(connection):
    respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            401,
            json={"error_description": "Client authentication failed", "error": "invalid_client"},
        )
    )
    result = connection_checks.check(connection)
    assert not result.ok
    assert "Client authentication failed" in result.message


@respx.mock
def test_test_connection_says_what_it_reached(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    result = connection_checks.check(connection)
    assert result.ok, result.message
    assert ORG in result.message


@respx.mock
def test_find_order_mirrors_the_order_document(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    shipped = load()
    shipped["shipments"][0]["trackingNumber"] = "1Z999AA10123456784"
    shipped["shipments"][0]["shippingMethod"]["name"] = "UPS Ground"
    respx.get(ORDER_URL).mock(return_value=httpx.Response(200, json=shipped))

    order = SfccAdapter(connection.tenant, connection).find_order("00000410")

    assert (order.number, order.email, order.currency) == (
        "00000410",
        "jane.doe@example.com",
        "USD",
    )
    assert (order.total, order.shipping_total, order.tax_total) == (
        Decimal("66.13"),
        Decimal("7.99"),
        Decimal("3.15"),
    )
    assert order.shipping_address["province_code"] == "MA"
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == [
        ("701643421084M", 1, Decimal("54.99"))
    ]
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_number) == ("ups", "1Z999AA10123456784")


@respx.mock
def test_an_unknown_order_number_is_none(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.get(f"{API}/orders/99999999").mock(
        return_value=httpx.Response(
            404,
            json={
                "type": "OrderNotFoundException",
                "title": "Order Not Found",
                "detail": "No order with number '99999999' was found.",
            },
        )
    )
    assert SfccAdapter(connection.tenant, connection).find_order("99999999") is None


@respx.mock
def test_cancel_sets_the_status_once(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    cancelled = load() | {"status": "cancelled"}
    get = respx.get(ORDER_URL).mock(return_value=httpx.Response(200, json=load()))
    status = respx.put(f"{ORDER_URL}/status").mock(
        side_effect=lambda request: (
            get.mock(return_value=httpx.Response(200, json=cancelled)),
            httpx.Response(204),
        )[1]
    )
    order = SfccAdapter(connection.tenant, connection).find_order("00000410")

    executors.cancel(order, idempotency_key="c-1")
    again = executors.cancel(order, idempotency_key="c-1")

    assert status.call_count == 1
    assert json.loads(status.calls.last.request.content) == {"status": "cancelled"}
    assert again.detail["replayed"] is True
    order.refresh_from_db()
    assert order.cancelled_at is not None


@respx.mock
def test_sfccs_refusal_to_cancel_reaches_the_case(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.get(ORDER_URL).mock(return_value=httpx.Response(200, json=load()))
    respx.put(f"{ORDER_URL}/status").mock(
        return_value=httpx.Response(
            409,
            json={
                "arguments": {"orderNumber": "00000410"},
                "type": "CancelOrderException",
                "message": "Order with number '00000410' can't be cancelled.",
            },
        )
    )
    order = SfccAdapter(connection.tenant, connection).find_order("00000410")
    with pytest.raises(executors.ExecutionError) as caught:
        executors.cancel(order, idempotency_key="c-2")
    assert caught.value.permanent is True
    assert "can't be cancelled" in str(caught.value)


@respx.mock
def test_address_change_goes_to_the_orders_one_shipment(connection):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.get(ORDER_URL).mock(return_value=httpx.Response(200, json=load()))
    put = respx.put(f"{ORDER_URL}/shipments/me/shipping-address").mock(
        return_value=httpx.Response(204)
    )
    order = SfccAdapter(connection.tenant, connection).find_order("00000410")
    address = executors.Address(
        name="Jane Doe",
        address1="1 Main St",
        city="Boston",
        province_code="MA",
        zip="02108",
        country_code="US",
    )
    executors.update_shipping_address(order, address, idempotency_key="a-1")
    assert json.loads(put.calls.last.request.content) == {
        "firstName": "Jane",
        "lastName": "Doe",
        "fullName": "Jane Doe",
        "address1": "1 Main St",
        "city": "Boston",
        "stateCode": "MA",
        "postalCode": "02108",
        "countryCode": "US",
    }


def test_sfcc_declares_what_its_api_offers_and_no_webhooks(connection):
    adapter = adapter_for_connection(connection)
    assert isinstance(adapter, SfccAdapter)
    assert adapter.capabilities == {
        Capability.FIND_ORDER,
        Capability.ORDER_DETAIL,
        Capability.CANCEL,
        Capability.UPDATE_ADDRESS,
    }
    assert providers.webhook("sfcc") is None


def test_a_bad_organization_id_is_refused():
    with pytest.raises(executors.ExecutionError):
        SfccClient("kv7kzm78", "zzxy_prd", "RefArch", "id", "secret")
