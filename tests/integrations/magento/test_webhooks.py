"""Adobe Commerce events through Adobe I/O Events: signatures, de-duplication, the mirror."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from integrations.magento.webhooks import KEY_DOMAIN
from integrations.models import Order, Shipment, WebhookEvent
from tests.factories import apply_webhooks
from tests.integrations.magento.conftest import API, load, page

pytestmark = pytest.mark.django_db


def _body(name: str = "event_sales_order_save_after.json", **changes) -> bytes:
    return json.dumps(load(name) | changes).encode()


def deliver(client, connection, signer, body: bytes, *, event_id="e501d499", code=None, **headers):
    """POST as Adobe I/O Events does, then let the intake worker apply what was kept."""
    code = code or json.loads(body).get("type", "") if body.startswith(b"{") else "x"
    sent = {
        "x-adobe-event-id": event_id,
        "x-adobe-event-code": code,
        "x-adobe-digital-signature-1": signer.sign(body),
        "x-adobe-digital-signature-2": "bm90IGEgc2lnbmF0dXJl",
        "x-adobe-public-key1-path": signer.path,
        "x-adobe-public-key2-path": signer.path.replace("pub-key-", "pub-key-other-"),
        "x-adobe-provider": "commerce-provider",
        **headers,
    }
    response = client.post(
        f"/webhooks/{connection.provider}/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers=sent,
    )
    response.applied = apply_webhooks()
    return response


@pytest.fixture
def adobe(signer):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(KEY_DOMAIN + signer.path).mock(
            return_value=httpx.Response(200, text=signer.public_pem)
        )
        mock.get(KEY_DOMAIN + signer.path.replace("pub-key-", "pub-key-other-")).mock(
            return_value=httpx.Response(404)
        )
        mock.get(f"{API}/orders/3").mock(return_value=httpx.Response(200, json=load("order.json")))
        mock.get(f"{API}/shipments").mock(
            return_value=httpx.Response(200, json=load("shipments.json"))
        )
        mock.get(f"{API}/creditmemos").mock(return_value=httpx.Response(200, json=page([])))
        yield mock


def test_an_order_event_mirrors_the_order_as_the_store_holds_it(
    client, adobe_connection, signer, adobe
):
    response = deliver(client, adobe_connection, signer, _body())
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.applied == ["processed"]
    order = Order.objects.get(tenant=adobe_connection.tenant)
    assert (order.number, order.email) == ("000000003", "roni_cost@example.com")
    assert Shipment.objects.get(order=order).tracking_number == "1Z999AA10123456784"
    kept = WebhookEvent.objects.get()
    assert kept.topic == "com.adobe.commerce.observer.sales_order_save_after"
    assert json.loads(kept.body)["data"]["value"]["increment_id"] == "000000003"


def test_a_tracking_event_reads_its_order_not_its_shipment(client, adobe_connection, signer, adobe):
    body = _body("event_sales_order_shipment_track_save_after.json")
    response = deliver(client, adobe_connection, signer, body, event_id="t-1")
    assert response.applied == ["processed"]
    assert Shipment.objects.get().order.external_id == "3"


def test_the_second_key_is_enough_while_adobe_rotates(client, adobe_connection, signer, adobe):
    body = _body()
    response = deliver(
        client,
        adobe_connection,
        signer,
        body,
        **{
            "x-adobe-digital-signature-1": "bm90IGEgc2lnbmF0dXJl",
            "x-adobe-digital-signature-2": signer.sign(body),
            "x-adobe-public-key2-path": signer.path,
        },
    )
    assert response.status_code == 200


def test_a_bad_signature_is_401_and_the_raw_body_is_kept(client, adobe_connection, signer, adobe):
    body = _body()
    response = deliver(
        client,
        adobe_connection,
        signer,
        body,
        **{"x-adobe-digital-signature-1": signer.sign(b"{}")},
    )
    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.body == body.decode()
    assert not Order.objects.exists()


def test_a_key_outside_adobes_key_domain_is_never_fetched(client, adobe_connection, signer, adobe):
    response = deliver(
        client,
        adobe_connection,
        signer,
        _body(),
        **{"x-adobe-public-key1-path": "@evil.example/key.pem"},
    )
    assert response.status_code == 401


def test_an_event_for_another_registration_is_401(client, adobe_connection, signer, adobe):
    body = _body(recipient_client_id="someone-else")
    assert deliver(client, adobe_connection, signer, body).status_code == 401


def test_a_malformed_body_is_400(client, adobe_connection, signer, adobe):
    response = deliver(client, adobe_connection, signer, b'{"data": ', code="x")
    assert response.status_code == 400
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED


def test_a_redelivery_is_200_and_applied_once(client, adobe_connection, signer, adobe):
    body = _body()
    first = deliver(client, adobe_connection, signer, body, event_id="same")
    again = deliver(client, adobe_connection, signer, body, event_id="same")
    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.applied == []
    assert WebhookEvent.objects.count() == 1
    # The public key was fetched once and then read from the cache.
    assert adobe.routes[0].call_count == 1


def test_events_not_mirrored_are_acknowledged_and_ignored(client, adobe_connection, signer, adobe):
    body = _body(type="com.adobe.commerce.observer.catalog_product_save_after")
    response = deliver(client, adobe_connection, signer, body)
    assert response.status_code == 200
    assert response.applied == ["ignored"]


def test_an_event_about_an_order_the_store_no_longer_has_fails_with_its_words(
    client, adobe_connection, signer, adobe
):
    adobe.get(f"{API}/orders/3").mock(
        return_value=httpx.Response(
            404,
            json={
                "message": "The entity that was requested doesn't exist. Verify the entity and try again."
            },
        )
    )
    response = deliver(client, adobe_connection, signer, _body())
    assert response.applied == ["failed"]
    assert "requested doesn't exist" in WebhookEvent.objects.get().error


def test_magento_open_source_takes_no_webhooks(client, magento_connection, signer):
    response = client.post(
        f"/webhooks/magento/{magento_connection.public_id}",
        data=b"{}",
        content_type="application/json",
    )
    assert response.status_code == 404


def test_adobe_proves_the_url_with_a_challenge_that_is_echoed(client, adobe_connection):
    url = f"/webhooks/adobe_commerce/{adobe_connection.public_id}"

    answer = client.get(url, {"challenge": "8ec8d794-e0ab-42df-9017-e3dada8e84f7"})

    assert answer.status_code == 200
    assert answer.json() == {"challenge": "8ec8d794-e0ab-42df-9017-e3dada8e84f7"}
    assert client.get(url).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_get_to_a_provider_without_a_handshake_is_refused(client):
    from integrations.models import Connection
    from tests.factories import make_tenant

    shop = Connection.objects.create(
        tenant=make_tenant(), provider="shopify", kind="commerce", name="s", credentials={}
    )
    assert client.get(f"/webhooks/shopify/{shop.public_id}").status_code == 405


def test_the_longest_adobe_event_code_is_kept_whole(client, adobe_connection, signer, adobe):
    code = "com.adobe.commerce.observer.sales_order_shipment_track_save_after"
    assert len(code) > 64
    WebhookEvent.objects.create(
        connection=adobe_connection, provider="adobe_commerce", topic=code, body="{}"
    )
    assert WebhookEvent.objects.get().topic == code
