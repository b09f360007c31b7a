"""SLA clocks pause on real events: a reply that waits on the customer, a return
on its way back; and resume when the customer answers or the parcel arrives."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from agents import planner
from desk import actions, sla
from desk.actions import ProposalDraft, customer_replied, submit_proposal
from desk.models import Contact, Message, Priority, Proposal, SlaBreach, SlaClock, SlaPolicy
from desk.tasks import carrier_delivered
from integrations.actions import record_tracking_event
from integrations.models import Return, Shipment
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def _berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def tenant():
    tenant = make_tenant(time_zone="Europe/Berlin")
    SlaPolicy.objects.create(
        tenant=tenant,
        priority=Priority.NORMAL,
        decision_minutes=4 * 60,
        resolution_minutes=8 * 60,
        business_hours={str(d): [["09:00", "17:00"]] for d in range(5)},
    )
    return tenant


def _escalate(tenant, captured, *, order=None, draft: ProposalDraft | None = None) -> Contact:
    contact = make_contact(tenant, order=order, body="refund please")
    with captured(execute=False):
        submit_proposal(
            contact,
            draft
            or ProposalDraft(
                kind=Proposal.Kind.REFUND,
                amount=Decimal("300.00"),
                currency="USD",
                reply_draft="Refunded.",
                confidence=Decimal("0.9"),
                rationale="Refund request",
            ),
            guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "300 above 200"}],
            actor=Actor.agent(),
        )
    contact.refresh_from_db()
    return contact


def _clock(contact, target=SlaClock.Target.DECISION) -> SlaClock:
    return SlaClock.objects.get(contact=contact, target=target)


def test_waiting_on_customer_over_a_weekend_and_the_dst_change_then_resume_after_restart(
    client, tenant, django_capture_on_commit_callbacks
):
    specialist = make_member(tenant, Role.SPECIALIST)
    # Friday 14:00 in Berlin; clocks go forward on Sunday 29 March.
    with time_machine.travel(_berlin(2026, 3, 27, 14, 0), tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    client.force_login(specialist)
    with time_machine.travel(_berlin(2026, 3, 27, 15, 0), tick=False):
        response = client.post(
            reverse("desk:reply", kwargs={"contact_id": contact.public_id}),
            {"body": "Could you send a photo of the parcel?", "waiting_on_customer": "on"},
        )
    assert response.status_code in (200, 302)
    decision = _clock(contact)
    assert (decision.state, decision.pause_reason) == ("paused", "customer")
    assert decision.consumed_seconds == 3600
    assert _clock(contact, SlaClock.Target.RESOLUTION).state == "paused"
    # Monday 12:00 would have been the decision deadline: nothing breaches while paused.
    with time_machine.travel(_berlin(2026, 3, 30, 12, 30), tick=False):
        sla.sweep()
    assert not SlaBreach.objects.exists()
    # A fresh worker: only the database knows the clocks.
    fresh = Contact.objects.get(pk=contact.pk)
    with time_machine.travel(_berlin(2026, 3, 30, 13, 0), tick=False):
        customer_replied(fresh, "Here is the photo.")
    decision, resolution = _clock(fresh), _clock(fresh, SlaClock.Target.RESOLUTION)
    assert decision.state == resolution.state == "running"
    # 3 h of the decision's 4 h left from Monday 13:00 (CEST now), 7 h of 8 for resolution.
    assert decision.due_at == _berlin(2026, 3, 30, 16, 0)
    assert resolution.due_at == _berlin(2026, 3, 31, 12, 0)
    fresh.refresh_from_db()
    assert fresh.sla_due_at == decision.due_at
    assert fresh.messages.filter(direction="inbound").count() == 2


def test_a_reply_without_the_flag_keeps_the_clock_running(
    tenant, django_capture_on_commit_callbacks
):
    with time_machine.travel(_berlin(2026, 3, 27, 14, 0), tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
        actions.send_reply(contact, make_member(tenant, Role.SPECIALIST), "We are on it.")
    assert _clock(contact).state == "running"


def test_customer_message_resumes_only_customer_waits_and_twice_is_harmless(
    tenant, django_capture_on_commit_callbacks
):
    with time_machine.travel(_berlin(2026, 3, 24, 10, 0), tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
        sla.pause_clocks(contact, SlaClock.PauseReason.CARRIER)
    with time_machine.travel(_berlin(2026, 3, 24, 11, 0), tick=False):
        customer_replied(contact, "Any news?")
    assert _clock(contact).pause_reason == "carrier"
    with time_machine.travel(_berlin(2026, 3, 24, 10, 30), tick=False):
        sla.resume_clocks(contact, reason=SlaClock.PauseReason.CARRIER)
    due = _clock(contact).due_at
    with time_machine.travel(_berlin(2026, 3, 24, 12, 0), tick=False):
        assert sla.resume_clocks(contact) == 0
        customer_replied(contact, "Hello again")
    assert _clock(contact).due_at == due


def test_the_planners_question_goes_out_and_the_clock_waits(
    tenant, django_capture_on_commit_callbacks
):
    draft = planner.plan(intent="wismo", confidence=0.9, evidence={}, customer_name="Ann")
    assert draft.asks_customer
    with time_machine.travel(_berlin(2026, 3, 24, 10, 0), tick=False):
        contact = _escalate(
            tenant,
            django_capture_on_commit_callbacks,
            draft=draft,
        )
    sent = contact.messages.get(direction=Message.Direction.OUTBOUND)
    assert "order number" in sent.body and sent.raw["kind"] == "question"
    assert _clock(contact).state == "paused"
    assert _clock(contact).pause_reason == "customer"


def test_a_return_on_its_way_back_pauses_the_order_and_its_delivery_resumes(
    tenant, django_capture_on_commit_callbacks
):
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    with time_machine.travel(_berlin(2026, 3, 24, 10, 0), tick=False):
        waiting = _escalate(tenant, django_capture_on_commit_callbacks, order=order)
    Return.objects.create(
        tenant=tenant,
        order=order,
        label_carrier="ups",
        label_tracking_number="1ZRETURN0001",
        idempotency_key="test-return",
    )
    with time_machine.travel(_berlin(2026, 3, 24, 11, 0), tick=False):
        assert actions.wait_on_carrier(order) == 2
    assert (_clock(waiting).state, _clock(waiting).pause_reason) == ("paused", "carrier")
    back = Shipment.objects.create(
        tenant=tenant, order=order, carrier="ups", tracking_number="1ZRETURN0001"
    )
    with time_machine.travel(_berlin(2026, 3, 26, 9, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            record_tracking_event(
                back,
                occurred_at=_berlin(2026, 3, 26, 8, 30),
                status="delivered",
                description="Delivered to the merchant's warehouse",
                carrier_code="D1",
            )
        assert callbacks  # the scan's follow-up task, by name
        assert carrier_delivered(shipment_id=back.pk) == 2
    decision = _clock(waiting)
    assert decision.state == "running"
    # 1 h used on Tuesday; 3 h left from Thursday 09:00.
    assert decision.due_at == _berlin(2026, 3, 26, 12, 0)


def test_an_open_carrier_claim_holds_the_clock_and_its_answer_releases_it(
    client, tenant, django_capture_on_commit_callbacks
):
    from tests.factories import log_in

    specialist = make_member(tenant, Role.SPECIALIST)
    with time_machine.travel(_berlin(2026, 3, 23, 10, 0), tick=False):  # Monday 10:00
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
        log_in(client, specialist)
        url = reverse("desk:carrier-claim", kwargs={"contact_id": contact.public_id})
        assert client.post(url, {"opened": "1", "reference": "UPS-CLM-7781"}).status_code in {
            200,
            302,
        }
    clock = _clock(contact)
    assert (clock.state, clock.pause_reason) == ("paused", "carrier")
    # The customer writing in does not end a wait on the carrier.
    with time_machine.travel(_berlin(2026, 3, 24, 10, 0), tick=False):
        customer_replied(contact, "any news?")
    assert _clock(contact).state == "paused"
    # A day later the carrier answers: the clock counts again from there,
    # with all four business hours of its target left (it paused at once).
    with time_machine.travel(_berlin(2026, 3, 25, 9, 0), tick=False):
        client.post(url, {"opened": "0", "reference": "UPS-CLM-7781"})
    clock = _clock(contact)
    assert clock.state == "running"
    assert clock.due_at == _berlin(2026, 3, 25, 13, 0)
    notes = contact.messages.filter(direction="internal").values_list("body", flat=True)
    assert any("UPS-CLM-7781" in n for n in notes)
    assert tenant.audit_events.filter(verb="contact.carrier_claim_opened").exists()
