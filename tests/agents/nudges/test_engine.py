"""Rule edges: triggers, de-duplication, suppression, opt-out, caps, channels, locales."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.nudges.engine import evaluate_events, nudge_order, sweep
from agents.nudges.tasks import evaluate_nudges
from integrations.messaging.models import ConversationWindow, OptOut, OutboundMessage
from integrations.models import Connection, Refund
from tests.agents.nudges.helpers import make_rule, scan
from tests.factories import make_contact, make_customer, make_order, make_tenant

pytestmark = pytest.mark.django_db


def _twilio(tenant):
    Connection.objects.create(
        tenant=tenant,
        provider="twilio",
        kind="messaging",
        name="Twilio",
        credentials={"account_sid": "AC1", "auth_token": "t", "from_number": "+15005550006"},
    )


def _messages(tenant):
    return list(OutboundMessage.objects.filter(tenant=tenant).order_by("pk"))


def test_out_for_delivery_scan_queues_the_rules_message(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery")
    [message] = evaluate_events([event.pk], enqueue=False)
    assert (message.state, message.channel, message.to) == ("queued", "email", "ada@example.com")
    assert message.trigger == "out_for_delivery"
    assert message.subject == f"Order {shipment.order.number}: Out for delivery"
    assert message.body.startswith("Hi Ada, your UPS parcel")
    assert message.send_after is None


def test_a_scan_no_rule_answers_writes_nothing(tenant, shipment):
    make_rule(tenant, trigger="delivered")
    event = scan(shipment, "out_for_delivery")
    assert evaluate_events([event.pk], enqueue=False) == []


def test_inactive_rules_and_other_tenants_rules_do_not_fire(tenant, shipment):
    make_rule(tenant, is_active=False)
    make_rule(make_tenant())
    assert evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False) == []


def test_the_same_event_evaluated_twice_sends_once(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery")
    assert len(evaluate_events([event.pk, event.pk], enqueue=False)) == 1
    assert evaluate_nudges.run(tracking_event_id=event.pk) == 0
    assert len(_messages(tenant)) == 1


def test_a_redelivered_scan_is_not_stored_again_nor_nudged_again(tenant, shipment):
    make_rule(tenant)
    at = timezone.now()
    first = scan(shipment, "out_for_delivery", at=at)
    assert scan(shipment, "out_for_delivery", at=at) is None
    evaluate_events([first.pk], enqueue=False)
    # A second out-for-delivery scan the next morning is the same shipment and trigger.
    again = scan(shipment, "out_for_delivery", at=at + timedelta(minutes=5), code="OFD2")
    assert evaluate_events([again.pk], enqueue=False) == []
    assert len(_messages(tenant)) == 1


def test_exceptions_are_nudged_once_per_substatus(tenant, shipment):
    make_rule(tenant, trigger="exception", substatuses=["customs_hold", "address_problem"])
    now = timezone.now()
    written = []
    for i, substatus in enumerate(
        ["customs_hold", "weather_delay", "address_problem", "customs_hold"]
    ):
        at = now + timedelta(seconds=i)
        event = scan(shipment, "exception", substatus=substatus, at=at, code=f"E{i}")
        written.append(len(evaluate_events([event.pk], enqueue=False, now=at)))
    # weather_delay is not the rule's; the second customs hold is the same nudge again.
    assert written == [1, 0, 1, 0]


def test_a_late_arriving_older_scan_does_not_speak(tenant, shipment):
    make_rule(tenant)
    now = timezone.now()
    scan(shipment, "delivered", at=now)
    old = scan(shipment, "out_for_delivery", at=now - timedelta(hours=3), code="OLD")
    assert evaluate_events([old.pk], enqueue=False) == []


def test_backfilled_history_does_not_speak(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery", at=timezone.now() - timedelta(days=4))
    assert evaluate_events([event.pk], enqueue=False) == []


def test_open_contact_suppresses_with_the_reason(tenant, shipment):
    make_rule(tenant)
    make_contact(tenant, order=shipment.order)
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert (message.state, message.skip_reason) == ("skipped", "open_contact")


def test_open_contact_found_by_email_alone(tenant, shipment):
    make_rule(tenant)
    make_contact(tenant, customer_email="ADA@example.com")
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.skip_reason == "open_contact"


def test_resolved_contact_does_not_suppress(tenant, shipment):
    make_rule(tenant)
    make_contact(tenant, order=shipment.order, status="resolved")
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.state == "queued"


def test_suppression_can_be_turned_off(tenant, shipment):
    make_rule(tenant, suppress_while_contact_open=False)
    make_contact(tenant, order=shipment.order)
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.state == "queued"


def test_channels_follow_the_preference_order(tenant, shipment):
    _twilio(tenant)
    make_rule(tenant, channels=["sms", "email"])
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert (message.channel, message.to) == ("sms", "+14155552345")


def test_an_unconfigured_channel_falls_through_to_the_next(tenant, shipment):
    make_rule(tenant, channels=["sms", "email"])
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.channel == "email"


def test_opted_out_channel_falls_through_and_all_opted_out_is_skipped(tenant, shipment):
    _twilio(tenant)
    make_rule(tenant, channels=["sms", "email"])
    OptOut.objects.create(tenant=tenant, channel="sms", address="+14155552345")
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.channel == "email"

    make_rule(tenant, trigger="delivered", channels=["sms"])
    [skipped] = evaluate_events(
        [scan(shipment, "delivered", at=timezone.now() + timedelta(seconds=1), code="D").pk],
        enqueue=False,
    )
    assert (skipped.state, skipped.skip_reason) == ("skipped", "opted_out")


def test_no_address_is_skipped_with_the_reason(tenant):
    customer = make_customer(tenant, phone="")
    shipment = make_order(tenant, customer=customer).shipments.get()
    _twilio(tenant)
    make_rule(tenant, channels=["sms"])
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.skip_reason == "no_channel"


def test_whatsapp_uses_the_template_outside_the_session_and_text_inside(tenant, shipment):
    Connection.objects.create(
        tenant=tenant,
        provider="whatsapp",
        kind="messaging",
        name="WA",
        credentials={"phone_number_id": "1", "access_token": "t"},
    )
    make_rule(tenant, channels=["whatsapp", "email"])
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.channel == "whatsapp"
    assert (message.template, message.template_language) == ("shipping_update", "en_US")
    assert message.template_params == ["Ada", shipment.order.number]


def test_whatsapp_without_template_and_closed_session_falls_through(tenant, shipment):
    Connection.objects.create(
        tenant=tenant, provider="whatsapp", kind="messaging", name="WA", credentials={}
    )
    templates = {"en": {"subject": "s", "body": "b"}}
    make_rule(tenant, channels=["whatsapp", "email"], templates=templates)
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert message.channel == "email"

    ConversationWindow.objects.create(
        tenant=tenant, channel="whatsapp", address="+14155552345", last_inbound_at=timezone.now()
    )
    make_rule(tenant, trigger="delivered", channels=["whatsapp", "email"], templates=templates)
    [inside] = evaluate_events(
        [scan(shipment, "delivered", at=timezone.now() + timedelta(seconds=1), code="D").pk],
        enqueue=False,
    )
    assert inside.channel == "whatsapp"


def test_frequency_cap_counts_across_rules_and_skips_with_the_reason(tenant, shipment):
    for trigger in ("shipped", "out_for_delivery", "delivered"):
        make_rule(tenant, trigger=trigger, cap_count=2, cap_hours=24)
    now = timezone.now()
    results = []
    for i, status in enumerate(("in_transit", "out_for_delivery", "delivered")):
        event = scan(shipment, status, at=now + timedelta(seconds=i), code=f"C{i}")
        results += evaluate_events([event.pk], enqueue=False, now=now + timedelta(seconds=i))
    assert [m.state for m in results] == ["queued", "queued", "skipped"]
    assert results[-1].skip_reason == "frequency_cap"


def test_frequency_cap_window_slides(tenant, shipment):
    make_rule(tenant, trigger="shipped", cap_count=1, cap_hours=24)
    make_rule(tenant, trigger="delivered", cap_count=1, cap_hours=24)
    now = timezone.now()
    evaluate_events([scan(shipment, "in_transit", at=now, code="T").pk], enqueue=False, now=now)
    later = now + timedelta(hours=25)
    delivered = scan(shipment, "delivered", at=later, code="D")
    [message] = evaluate_events([delivered.pk], enqueue=False, now=later)
    assert message.state == "queued"


def test_cap_within_one_batch_counts_messages_of_the_same_batch(tenant):
    customer = make_customer(tenant)
    make_rule(tenant, cap_count=1)
    first = make_order(tenant, customer=customer).shipments.get()
    second = make_order(tenant, customer=customer).shipments.get()
    events = [scan(first, "out_for_delivery").pk, scan(second, "out_for_delivery").pk]
    states = sorted(m.state for m in evaluate_events(events, enqueue=False))
    assert states == ["queued", "skipped"]


def test_locale_comes_from_the_order_then_the_tenant(tenant, shipment):
    make_rule(tenant)
    order = shipment.order
    order.raw = {"customer_locale": "fr-CA"}
    order.save()
    [message] = evaluate_events([scan(shipment, "out_for_delivery").pk], enqueue=False)
    assert (message.locale, message.body) == ("fr", "Bonjour Ada !")


def test_sweep_nudges_late_stalled_and_unscanned_once(tenant):
    now = timezone.now()
    make_rule(tenant, trigger="late")
    make_rule(tenant, trigger="stalled", delay_days=3)
    make_rule(tenant, trigger="not_scanned", delay_days=2)
    late = make_order(tenant).shipments.get()
    late.estimated_delivery = (now - timedelta(days=1)).date()
    late.last_event_at = now
    late.save()
    stalled = make_order(tenant).shipments.get()
    stalled.last_event_at = now - timedelta(days=4)
    stalled.save()
    unscanned = make_order(tenant, shipment_status="info_received").shipments.get()
    unscanned.last_event_at = now - timedelta(days=3)
    unscanned.save()
    fresh = make_order(tenant).shipments.get()  # scanned yesterday, no estimate: nothing to say
    assert sweep(now=now, enqueue=False) == {"late": 1, "stalled": 1, "not_scanned": 1}
    assert sweep(now=now, enqueue=False) == {"late": 0, "stalled": 0, "not_scanned": 0}
    by_trigger = {m.trigger: m.shipment_id for m in _messages(tenant)}
    assert by_trigger == {"late": late.pk, "stalled": stalled.pk, "not_scanned": unscanned.pk}
    assert fresh.pk not in by_trigger.values()


def test_sweep_leaves_delivered_shipments_alone(tenant):
    make_rule(tenant, trigger="stalled", delay_days=1)
    shipment = make_order(tenant, shipment_status="delivered").shipments.get()
    shipment.last_event_at = timezone.now() - timedelta(days=5)
    shipment.save()
    assert sweep(enqueue=False) == {"stalled": 0}


def test_refund_issued_is_nudged_once_per_refund(tenant):
    make_rule(
        tenant, trigger="refund_issued", templates={"en": {"body": "Refunded {{ refund_amount }}"}}
    )
    order = make_order(tenant)
    Refund.objects.create(
        tenant=tenant, order=order, amount="12.50", currency="USD", idempotency_key="r1"
    )
    sweep(enqueue=False)
    sweep(enqueue=False)
    [message] = _messages(tenant)
    assert message.body == "Refunded 12.50 USD"


def test_return_label_ready_is_nudged_once_per_reference(tenant):
    make_rule(tenant, trigger="return_label_ready")
    order = make_order(tenant)
    assert len(nudge_order(tenant, "return_label_ready", order=order, reference="rma-1")) == 1
    assert nudge_order(tenant, "return_label_ready", order=order, reference="rma-1") == []


def test_due_messages_are_enqueued_on_commit(
    tenant, shipment, django_capture_on_commit_callbacks, monkeypatch
):
    from integrations.messaging import tasks

    sent = []
    monkeypatch.setattr(tasks.send_messages, "delay", lambda **kw: sent.append(kw))
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery")
    with django_capture_on_commit_callbacks(execute=True):
        [message] = evaluate_events([event.pk])
    assert sent == [{"message_ids": [message.pk]}]


def test_a_new_scan_asks_for_its_follow_up_by_task_name_on_commit(
    tenant, shipment, django_capture_on_commit_callbacks, monkeypatch
):
    from celery import current_app

    calls = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: calls.append((name, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        event = scan(shipment, "out_for_delivery")
    # One task for all it sets off, routed to the nudges queue by name.
    assert calls == [("agents.follow_up_scan", {"kwargs": {"tracking_event_id": event.pk}})]


def test_demo_seed_is_idempotent(tenant, shipment):
    from agents.nudges.demo import DEMO_RULES, seed_demo_nudges

    scan(shipment, "out_for_delivery")
    assert seed_demo_nudges([tenant]) == len(DEMO_RULES)
    assert seed_demo_nudges([tenant]) == 0
    assert [m.trigger for m in _messages(tenant)] == ["out_for_delivery"]
