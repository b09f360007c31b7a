"""The outbox state machine: queue once, send once, retry the temporary, fail the permanent."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx
from django.core import mail
from django.utils import timezone

from integrations.messaging import actions
from integrations.messaging.actions import Draft
from integrations.messaging.clients import TemporaryError
from integrations.messaging.models import OptOut, OutboundMessage
from integrations.messaging.tasks import send_message
from integrations.models import Connection
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

SID = "AC" + "1" * 32
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


@pytest.fixture(autouse=True)
def _locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def tenant():
    return make_tenant()


def _twilio(tenant):
    return Connection.objects.create(
        tenant=tenant,
        provider="twilio",
        kind=Connection.Kind.MESSAGING,
        name="Twilio",
        credentials={"account_sid": SID, "auth_token": "tok", "from_number": "+15005550006"},
    )


def _queue(tenant, **fields):
    draft = Draft(
        channel=fields.pop("channel", "email"),
        to=fields.pop("to", "Ada@Example.com"),
        body=fields.pop("body", "Your parcel is on its way"),
        idempotency_key=fields.pop("key", "k-1"),
        **fields,
    )
    return actions.queue_message(tenant, draft, enqueue=False)


def test_the_same_key_queues_one_message(tenant):
    first, created = _queue(tenant)
    again, created_again = _queue(tenant, body="a different body")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert OutboundMessage.objects.filter(tenant=tenant).count() == 1
    assert first.to == "ada@example.com"


def test_the_same_key_in_another_tenant_is_another_message(tenant):
    _queue(tenant)
    _, created = _queue(make_tenant())
    assert created


def test_a_sent_message_is_not_sent_again(tenant):
    message, _ = _queue(tenant)
    assert actions.send_now(message.pk) == "sent"
    assert actions.send_now(message.pk) == "sent"
    assert send_message.run(message_id=message.pk) == "sent"
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.provider == "email" and message.provider_id


def test_a_held_back_message_is_not_sent_before_its_time(tenant):
    later = timezone.now() + timedelta(hours=3)
    message, _ = _queue(tenant, send_after=later, defer_reason="quiet_hours")
    assert actions.send_now(message.pk) == "queued"
    assert mail.outbox == []
    assert actions.due_message_ids(timezone.now()) == []
    assert actions.due_message_ids(later) == [message.pk]
    assert actions.send_now(message.pk, now=later) == "sent"


def test_opted_out_address_is_recorded_as_skipped_when_queued(tenant):
    actions.opt_out(tenant, "sms", "+1 (415) 555-2345", source="test")
    message, _ = _queue(tenant, channel="sms", to="+14155552345")
    assert message.state == "skipped"
    assert message.skip_reason == "opted_out"


def test_opt_out_after_queueing_is_honoured_at_send_time(tenant):
    message, _ = _queue(tenant)
    actions.opt_out(tenant, "email", "ADA@example.com", source="test")
    assert actions.send_now(message.pk) == "skipped"
    assert mail.outbox == []


@respx.mock
def test_temporary_error_requeues_with_backoff_then_sends(tenant):
    _twilio(tenant)
    message, _ = _queue(tenant, channel="sms", to="+14155552345")
    respx.post(TWILIO_URL).mock(
        side_effect=[
            httpx.Response(503, json={"code": 20503, "message": "Service unavailable"}),
            httpx.Response(201, json={"sid": "SM" + "b" * 32, "status": "queued"}),
        ]
    )
    now = timezone.now()
    with pytest.raises(TemporaryError) as caught:
        actions.send_now(message.pk, now=now)
    assert caught.value.retry_in == 30
    message.refresh_from_db()
    assert message.state == "queued"
    assert message.send_after == now + timedelta(seconds=30)
    assert "503" in message.error
    assert actions.send_now(message.pk, now=now) == "queued"  # not before the backoff
    assert actions.send_now(message.pk, now=now + timedelta(seconds=31)) == "sent"
    message.refresh_from_db()
    assert message.provider_id == "SM" + "b" * 32
    assert len(message.provider_responses) == 2
    assert message.attempts == 2


@respx.mock
def test_temporary_errors_give_up_after_the_attempt_limit(tenant):
    _twilio(tenant)
    message, _ = _queue(tenant, channel="sms", to="+14155552345")
    respx.post(TWILIO_URL).mock(return_value=httpx.Response(500, json={"message": "boom"}))
    now = timezone.now()
    for _ in range(actions.MAX_ATTEMPTS - 1):
        with pytest.raises(TemporaryError):
            actions.send_now(message.pk, now=now)
        now += timedelta(hours=2)
    assert actions.send_now(message.pk, now=now) == "failed"
    message.refresh_from_db()
    assert message.error.startswith(f"Gave up after {actions.MAX_ATTEMPTS} attempts")


@respx.mock
def test_permanent_error_fails_with_the_providers_message_and_records_the_opt_out(tenant):
    _twilio(tenant)
    message, _ = _queue(tenant, channel="sms", to="+14155552345")
    respx.post(TWILIO_URL).mock(
        return_value=httpx.Response(
            400, json={"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
        )
    )
    assert actions.send_now(message.pk) == "failed"
    message.refresh_from_db()
    assert message.error == "Attempt to send to unsubscribed recipient"
    assert message.failed_at is not None
    assert OptOut.objects.filter(tenant=tenant, channel="sms", address="+14155552345").exists()


def test_sms_without_a_sender_fails_permanently(tenant):
    message, _ = _queue(tenant, channel="sms", to="+14155552345")
    assert actions.send_now(message.pk) == "failed"
    message.refresh_from_db()
    assert "No sms sender" in message.error


def test_status_callbacks_only_move_forward(tenant):
    message, _ = _queue(tenant)
    OutboundMessage.objects.filter(pk=message.pk).update(
        state="sent", provider="twilio", provider_id="SM1"
    )
    actions.apply_status("twilio", "SM1", "delivered", raw={"MessageStatus": "delivered"})
    actions.apply_status("twilio", "SM1", "sent", raw={"MessageStatus": "sent"})
    message.refresh_from_db()
    assert message.state == "delivered"
    assert message.delivered_at is not None
    assert len(message.provider_responses) == 2


def test_a_held_back_message_about_a_shipment_that_moved_on_is_skipped(tenant):
    from tests.factories import make_order

    shipment = make_order(tenant, shipment_status="out_for_delivery").shipments.get()
    later = timezone.now() + timedelta(hours=1)
    message, _ = _queue(
        tenant,
        shipment=shipment,
        send_after=later,
        defer_reason="quiet_hours",
        context={"shipment_status": "out_for_delivery"},
    )
    shipment.status = "delivered"
    shipment.save()
    assert actions.send_now(message.pk, now=later) == "skipped"
    message.refresh_from_db()
    assert message.skip_reason == "superseded"
