"""Webhook intake: signature, de-duplication, raw payload kept, clear errors, and
the worker that applies what was acknowledged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from integrations import webhooks
from integrations.models import Connection, TrackingEvent, WebhookEvent
from integrations.webhooks import sign
from tests.factories import apply_webhooks, make_order, make_tenant

pytestmark = pytest.mark.django_db

SECRET = "s3cret"


@pytest.fixture
def feed():
    tenant = make_tenant()
    connection = Connection.objects.create(
        tenant=tenant,
        provider="sandbox_carrier",
        kind="carrier",
        name="feed",
        credentials={"webhook_secret": SECRET},
    )
    shipment = make_order(tenant).shipments.get()
    return connection, shipment


def _scan(shipment, **overrides):
    payload = {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "occurred_at": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "status": "out_for_delivery",
        "description": "Out for delivery",
        "code": "OFD",
        "city": "Louisville",
        "country": "US",
    }
    payload.update(overrides)
    return payload


def _deliver(
    client, connection, body: bytes, *, delivery_id="d-1", secret=SECRET, topic="tracking/scan"
):
    """POST a signed scan, then let the intake worker apply what was kept."""
    response = client.post(
        f"/webhooks/sandbox_carrier/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={
            "X-Desk-Hmac-Sha256": sign(secret, body),
            "X-Desk-Webhook-Id": delivery_id,
            "X-Desk-Topic": topic,
        },
    )
    response.applied = apply_webhooks()  # what the worker made of it
    return response


def test_signed_scan_moves_the_shipment_forward(client, feed):
    connection, shipment = feed
    response = _deliver(client, connection, json.dumps(_scan(shipment)).encode())
    assert response.status_code == 200
    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_redelivery_is_acknowledged_and_stored_once(client, feed):
    connection, shipment = feed
    body = json.dumps(_scan(shipment)).encode()
    assert _deliver(client, connection, body).status_code == 200
    second = _deliver(client, connection, body)
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert TrackingEvent.objects.filter(carrier_code="OFD").count() == 1


def test_bad_signature_is_401_and_the_raw_body_is_kept(client, feed):
    connection, shipment = feed
    body = json.dumps(_scan(shipment)).encode()
    response = _deliver(client, connection, body, secret="wrong")
    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.body == body.decode()


def test_malformed_json_is_400_and_kept(client, feed):
    connection, _ = feed
    response = _deliver(client, connection, b"{oops")
    assert response.status_code == 400
    assert WebhookEvent.objects.get().error.startswith("Malformed JSON")


def test_unknown_status_is_accepted_then_fails_with_the_reason_and_kept(client, feed):
    connection, shipment = feed
    response = _deliver(
        client, connection, json.dumps(_scan(shipment, status="teleported")).encode()
    )
    assert response.status_code == 200
    assert response.applied == ["failed"]
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.FAILED
    assert "teleported" in kept.error


def test_the_answer_comes_before_the_effect(client, feed):
    """The provider's clock stops at the insert; the shipment moves when a
    worker applies the kept event."""
    connection, shipment = feed
    body = json.dumps(_scan(shipment)).encode()
    response = client.post(
        f"/webhooks/sandbox_carrier/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={
            "X-Desk-Hmac-Sha256": sign(SECRET, body),
            "X-Desk-Webhook-Id": "d-9",
            "X-Desk-Topic": "tracking/scan",
        },
    )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"

    assert webhooks.process_event(event.pk) == "processed"
    assert webhooks.process_event(event.pk) == "skipped"  # a second task changes nothing
    shipment.refresh_from_db()
    event.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert event.processed_at is not None


def test_an_event_whose_task_was_lost_is_applied_by_the_sweep(client, feed):
    connection, shipment = feed
    body = json.dumps(_scan(shipment)).encode()
    client.post(
        f"/webhooks/sandbox_carrier/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers={
            "X-Desk-Hmac-Sha256": sign(SECRET, body),
            "X-Desk-Webhook-Id": "d-lost",
            "X-Desk-Topic": "tracking/scan",
        },
    )
    assert webhooks.process_waiting() == 0  # too young: its task may still be on its way
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert webhooks.process_waiting() == 1
    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"


def test_an_event_that_keeps_crashing_its_worker_is_set_aside(feed):
    """Attempts are counted in their own commit, so a processor that kills the
    worker every time (no exception ever caught) still ends in the dead letter."""
    connection, shipment = feed
    event = WebhookEvent.objects.create(
        connection=connection,
        provider="sandbox_carrier",
        delivery_id="poison",
        topic="tracking/scan",
        body=json.dumps(_scan(shipment)),
        # As if five workers had died applying it.
        attempts=webhooks.MAX_ATTEMPTS,
    )
    assert webhooks.process_event(event.pk) == "dead-lettered"
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED
    assert "5 attempts" in event.error
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"


def test_older_scan_never_moves_the_shipment_backwards(client, feed):
    connection, shipment = feed
    old = _scan(
        shipment,
        status="info_received",
        code="OLD",
        occurred_at=(datetime.now(UTC) - timedelta(days=9)).isoformat(),
    )
    assert _deliver(client, connection, json.dumps(old).encode()).status_code == 200
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    assert shipment.events.filter(carrier_code="OLD").exists()


def test_unknown_connection_is_404(client):
    assert (
        client.post(
            "/webhooks/sandbox_carrier/00000000-0000-0000-0000-000000000000",
            data=b"{}",
            content_type="application/json",
        ).status_code
        == 404
    )


def test_a_rotated_secret_or_a_deactivated_connection_counts_at_once(client, feed):
    """The intake keeps looked-up connections a few seconds; a change made here is
    seen by the very next delivery, never after the cache runs out."""
    connection, shipment = feed
    body = json.dumps(_scan(shipment)).encode()
    assert _deliver(client, connection, body, delivery_id="r-1").status_code == 200

    connection.credentials = {"webhook_secret": "rotated"}
    connection.save()
    assert _deliver(client, connection, body, delivery_id="r-2").status_code == 401
    assert (
        _deliver(client, connection, body, delivery_id="r-3", secret="rotated").status_code == 200
    )

    connection.is_active = False
    connection.save()
    assert (
        _deliver(client, connection, body, delivery_id="r-4", secret="rotated").status_code == 404
    )
