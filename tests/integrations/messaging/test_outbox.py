"""The outbox state machine: queue once, send once, retry the temporary, fail the permanent."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import timedelta

import httpx
import pytest
import respx
from django.core import mail
from django.db import transaction
from django.utils import timezone

from integrations.messaging import actions, tasks
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


def _queue(tenant, *, enqueue=False, **fields):
    draft = Draft(
        channel=fields.pop("channel", "email"),
        to=fields.pop("to", "Ada@Example.com"),
        body=fields.pop("body", "Your parcel is on its way"),
        idempotency_key=fields.pop("key", "k-1"),
        **fields,
    )
    return actions.queue_message(tenant, draft, enqueue=enqueue)


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


# --- handing messages over: one batch per transaction, or sent by the worker itself ---


@pytest.fixture
def send_tasks(monkeypatch):
    """The send tasks asked for, as (message ids, countdown), instead of the broker's."""
    asked = []
    monkeypatch.setattr(
        tasks.send_messages, "delay", lambda *, message_ids: asked.append((message_ids, None))
    )
    monkeypatch.setattr(
        tasks.send_messages,
        "apply_async",
        lambda *, kwargs, countdown=None: asked.append((kwargs["message_ids"], countdown)),
    )
    return asked


def _queue_due(tenant, key, **fields):
    """Queue a message to be handed over on commit, as the desk does."""
    message, _ = _queue(tenant, key=key, enqueue=True, **fields)
    return message


def _states(*messages):
    return [OutboundMessage.objects.get(pk=m.pk).state for m in messages]


def test_one_transaction_hands_its_messages_to_one_send_task(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reply = _queue_due(tenant, "reply")
        survey = _queue_due(tenant, "survey")
    assert send_tasks == [([reply.pk, survey.pk], None)]


def test_commit_hooks_it_cannot_read_cost_batching_but_lose_no_message(
    tenant, send_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    class Reshaped:
        """The connection as a Django upgrade might keep a transaction's hooks."""

        in_atomic_block = True
        savepoint_ids = ["s1"]
        run_on_commit = [("a hook in a shape we do not know",)]

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        monkeypatch.setattr(actions, "db", Reshaped())
        reply = _queue_due(tenant, "reply")
        survey = _queue_due(tenant, "survey")
    assert sorted(send_tasks) == sorted([([reply.pk], None), ([survey.pk], None)])


def test_a_message_queued_in_a_rolled_back_savepoint_is_not_handed_over(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    held, _ = _queue(tenant, key="held")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = _queue_due(tenant, "first")
        with suppress(RuntimeError), transaction.atomic():
            _queue_due(tenant, "undone")
            # A message kept outside the savepoint, asked to be sent inside it.
            actions.enqueue_send_on_commit([held.pk])
            raise RuntimeError("roll the savepoint back")
        last = _queue_due(tenant, "last")
    assert send_tasks == [([first.pk, last.pk], None)]
    assert not OutboundMessage.objects.filter(idempotency_key="undone").exists()


def test_a_batch_reads_the_sender_once_and_no_session_window_for_email(
    tenant, django_assert_num_queries
):
    reply, _ = _queue(tenant, key="reply")
    survey, _ = _queue(tenant, key="survey")
    # Per message: the claim, which reads it back with its opt-out, and the sent state;
    # once: the tenant's email sender.
    with django_assert_num_queries(5):
        outcome = actions.send_batch([reply.pk, survey.pk])
    assert outcome.states == {reply.pk: "sent", survey.pk: "sent"}
    assert len(mail.outbox) == 2


@respx.mock
def test_whatsapp_asks_for_the_session_window_and_answers_in_it_with_text(tenant):
    Connection.objects.create(
        tenant=tenant,
        provider="whatsapp",
        kind=Connection.Kind.MESSAGING,
        name="WhatsApp",
        credentials={"phone_number_id": "1065", "access_token": "tok"},
    )
    route = respx.post("https://graph.facebook.com/v21.0/1065/messages").mock(
        return_value=httpx.Response(200, json={"messages": [{"id": "wamid.1"}]})
    )
    actions.record_inbound(tenant, "whatsapp", "+14155552345", timezone.now())
    message, _ = _queue(tenant, channel="whatsapp", to="+14155552345")
    assert actions.send_now(message.pk) == "sent"
    assert json.loads(route.calls.last.request.content)["type"] == "text"


def test_messages_committed_inside_the_block_are_sent_by_this_process_as_it_ends(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    with actions.send_after_commit_here():
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            reply = _queue_due(tenant, "reply")
            survey = _queue_due(tenant, "survey")
        # Committed, and not yet sent: the commit's other hooks come first.
        assert mail.outbox == []
    assert _states(reply, survey) == ["sent", "sent"]
    assert len(mail.outbox) == 2
    assert send_tasks == []


def test_messages_committed_after_the_block_go_to_the_send_task(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        actions.send_after_commit_here(),
    ):
        reply = _queue_due(tenant, "reply")
    assert send_tasks == [([reply.pk], None)]
    assert mail.outbox == []


@respx.mock
def test_a_temporary_error_here_goes_to_the_send_task_after_its_backoff(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    _twilio(tenant)
    respx.post(TWILIO_URL).mock(
        return_value=httpx.Response(503, json={"code": 20503, "message": "Service unavailable"})
    )
    with actions.send_after_commit_here(), django_capture_on_commit_callbacks(execute=True):
        message = _queue_due(tenant, "reply", channel="sms", to="+14155552345")
    message.refresh_from_db()
    assert message.state == "queued" and message.send_after is not None
    assert send_tasks == [([message.pk], 30)]


def test_an_unexpected_error_here_leaves_the_message_queued_for_the_send_task(
    tenant, send_tasks, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(message_id, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(actions, "send_now", broken)
    with actions.send_after_commit_here(), django_capture_on_commit_callbacks(execute=True):
        message = _queue_due(tenant, "reply")
    assert _states(message) == ["queued"]
    assert send_tasks == [([message.pk], None)]
    assert "the database went away" in caplog.text


def test_a_block_that_raises_hands_its_committed_messages_to_the_send_task(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    with pytest.raises(RuntimeError), actions.send_after_commit_here():
        with django_capture_on_commit_callbacks(execute=True):
            message = _queue_due(tenant, "reply")
        raise RuntimeError("after the commit")
    assert send_tasks == [([message.pk], None)]
    assert mail.outbox == []


def test_a_message_left_by_a_worker_that_died_after_the_commit_is_sent_by_the_sweep(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    with actions.send_after_commit_here(), django_capture_on_commit_callbacks(execute=False):
        # Committed; the process dies before anything after the commit runs.
        message = _queue_due(tenant, "reply")
    assert tasks.send_due_messages.run() == 0  # its send may still be on the way
    OutboundMessage.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - actions.LOST_TASK_GRACE - timedelta(seconds=1)
    )
    assert tasks.send_due_messages.run() == 1
    assert send_tasks == [([message.pk], None)]
    assert tasks.send_messages.run(message_ids=[message.pk]) == {"sent": 1}
    assert len(mail.outbox) == 1


@respx.mock
def test_the_send_task_retries_temporary_errors_after_their_backoff(tenant, send_tasks):
    _twilio(tenant)
    respx.post(TWILIO_URL).mock(
        return_value=httpx.Response(503, json={"code": 20503, "message": "Service unavailable"})
    )
    sms, _ = _queue(tenant, key="sms", channel="sms", to="+14155552345")
    email, _ = _queue(tenant, key="email")
    assert tasks.send_messages.run(message_ids=[sms.pk, email.pk]) == {"queued": 1, "sent": 1}
    assert send_tasks == [([sms.pk], 30)]


def _claimed_long_ago(message, minutes):
    """As a worker killed between the claim and the provider's answer leaves it."""
    OutboundMessage.objects.filter(pk=message.pk).update(
        state=OutboundMessage.State.SENDING,
        attempts=1,
        updated_at=timezone.now() - timedelta(minutes=minutes),
    )


def test_a_message_whose_sender_died_mid_send_is_failed_with_the_reason_not_resent(tenant):
    message, _ = _queue(tenant)
    _claimed_long_ago(message, minutes=9)
    assert tasks.fail_interrupted_sends.run() == 0  # it may still be on its way
    _claimed_long_ago(message, minutes=11)
    assert tasks.fail_interrupted_sends.run() == 1
    message.refresh_from_db()
    assert message.state == "failed" and message.failed_at is not None
    assert message.error == actions.INTERRUPTED_SEND_ERROR
    assert message.provider_responses[-1]["code"] == "interrupted"
    # Nothing sends it again on its own: the provider may have it.
    assert tasks.send_due_messages.run() == 0
    assert tasks.fail_interrupted_sends.run() == 0
    assert mail.outbox == []


def test_sending_again_requeues_a_failed_message_once_and_sends_it(
    tenant, send_tasks, django_capture_on_commit_callbacks
):
    from tenants.actor import Actor
    from tenants.models import AuditEvent

    message, _ = _queue(tenant)
    _claimed_long_ago(message, minutes=11)
    tasks.fail_interrupted_sends.run()
    message.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_again(message, Actor.system("specialist"))
    with pytest.raises(actions.NotFailed, match="queued, not failed"):
        actions.send_again(message, Actor.system("specialist"))
    assert send_tasks == [([message.pk], None)]
    assert tasks.send_messages.run(message_ids=[message.pk]) == {"sent": 1}
    message.refresh_from_db()
    assert message.state == "sent" and message.error == "" and message.attempts == 1
    assert message.provider_responses[-2]["previous_error"] == actions.INTERRUPTED_SEND_ERROR
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(tenant=tenant, verb="message.sent_again").count() == 1


def test_sending_again_still_honours_an_opt_out_recorded_since(tenant, send_tasks):
    from tenants.actor import Actor

    message, _ = _queue(tenant)
    _claimed_long_ago(message, minutes=11)
    tasks.fail_interrupted_sends.run()
    actions.opt_out(tenant, "email", "ada@example.com", source="test")
    message.refresh_from_db()
    actions.send_again(message, Actor.system("specialist"))
    assert actions.send_now(message.pk) == "skipped"
    assert mail.outbox == []


def test_the_interrupted_send_grace_outlasts_every_task_that_sends():
    from agents.tasks import handle_contact
    from desk.celery import app
    from desk.tasks import execute_proposal

    grace = actions.INTERRUPTED_SEND_GRACE.total_seconds()
    for task in (tasks.send_message, tasks.send_messages, handle_contact, execute_proposal):
        assert (task.time_limit or app.conf.task_time_limit) < grace, task.name
    assert "fail-interrupted-sends" in app.conf.beat_schedule
