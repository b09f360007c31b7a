"""SLA clocks in business time, with time travel: business hours and holidays,
pauses, DST changes, worker restarts, and the breach sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from desk import sla
from desk.actions import ProposalDraft, send_reply, submit_proposal
from desk.models import Priority, Proposal, SlaAlert, SlaBreach, SlaClock, SlaPolicy
from desk.tasks import sweep_sla
from integrations.actions import record_tracking_event
from tenants.actor import Actor
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_order, make_tenant

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {str(d): [["09:00", "17:00"]] for d in range(5)}


def _escalate(tenant, captured):
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="refund please")
    with captured(execute=False):
        submit_proposal(
            contact,
            ProposalDraft(
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


# --- business time ---------------------------------------------------------------------


def test_business_hours_carry_over_the_weekend_and_the_spring_dst_change():
    calendar = sla.Calendar.from_policy("Europe/Berlin", WEEKDAYS_9_TO_5, [])
    friday = datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN)  # clocks go forward on Sunday the 29th
    due = calendar.add(friday, 2 * 3600)
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert calendar.between(friday, due) == 2 * 3600


def test_holidays_do_not_count():
    calendar = sla.Calendar.from_policy(
        "Europe/Berlin", WEEKDAYS_9_TO_5, ["2026-12-24", "2026-12-25"]
    )
    wednesday = datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN)
    assert calendar.add(wednesday, 2 * 3600) == datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)


def test_round_the_clock_hours_count_real_time_across_the_autumn_dst_change():
    calendar = sla.Calendar.from_policy(
        "America/New_York", {str(d): [["00:00", "24:00"]] for d in range(7)}, []
    )
    start = datetime(2026, 10, 31, 22, 0, tzinfo=NEW_YORK)  # 1 a.m. happens twice that night
    due = calendar.add(start, 6 * 3600)
    assert due - start.astimezone(UTC) == timedelta(hours=6)
    assert due.astimezone(NEW_YORK).hour == 3  # a wall-clock sum would say 4


# --- clocks on contacts ------------------------------------------------------------------


def test_escalation_sets_the_inbox_deadline_from_the_policy_in_business_time(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant(time_zone="Europe/Berlin")
    SlaPolicy.objects.create(
        tenant=tenant, priority=Priority.NORMAL, decision_minutes=60, business_hours=WEEKDAYS_9_TO_5
    )
    with time_machine.travel(datetime(2026, 3, 6, 16, 30, tzinfo=BERLIN), tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    assert contact.sla_due_at == datetime(2026, 3, 9, 9, 30, tzinfo=BERLIN)
    assert _clock(contact).due_at == contact.sla_due_at
    assert set(contact.sla_clocks.values_list("target", flat=True)) == {
        "first_response",
        "resolution",
        "decision",
    }


def test_without_a_policy_the_tenant_decision_hours_apply(django_capture_on_commit_callbacks):
    tenant = make_tenant(decision_sla_hours=2)
    now = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # a Saturday night: no business hours by default
    with time_machine.travel(now, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    assert contact.sla_due_at == now + timedelta(hours=2)


def test_waiting_on_the_customer_pauses_the_clock_and_resuming_continues_it(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant(decision_sla_hours=4)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert sla.pause_clocks(contact, SlaClock.PauseReason.CUSTOMER) == 2
    paused = _clock(contact)
    assert paused.state == "paused" and paused.due_at is None
    assert paused.consumed_seconds == 3600
    # Ten hours later, past the original deadline: paused clocks never breach.
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        sla.sweep()
        sla.resume_clocks(contact)
    assert not SlaBreach.objects.filter(target="decision").exists()
    resumed = _clock(contact)
    contact.refresh_from_db()
    assert resumed.due_at == start + timedelta(hours=14)
    assert contact.sla_due_at == resumed.due_at


def test_a_pause_survives_a_restart(django_capture_on_commit_callbacks):
    """Everything a clock knows is in its row: a fresh process resumes it correctly."""
    tenant = make_tenant(decision_sla_hours=4)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    with time_machine.travel(start + timedelta(minutes=90), tick=False):
        sla.pause_clocks(contact, SlaClock.PauseReason.CARRIER)
    # "Restart": nothing in memory survives, only the database.
    from desk.models import Contact

    fresh = Contact.objects.get(pk=contact.pk)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        sla.resume_clocks(fresh)
    assert _clock(fresh).due_at == start + timedelta(days=2, minutes=150)


# --- the sweep --------------------------------------------------------------------------


def test_sweep_records_a_breach_once_and_alerts_the_leads(django_capture_on_commit_callbacks):
    tenant = make_tenant(decision_sla_hours=4)
    lead = make_member(tenant, Role.LEAD)
    make_member(tenant, Role.SPECIALIST)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    # The worker was down across the deadline; the first sweep after it comes back catches up.
    with time_machine.travel(start + timedelta(hours=4, seconds=5), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = sla.sweep()
        with django_capture_on_commit_callbacks(execute=True):
            second = sla.sweep()
    # The first response (an hour by default) and the decision (four) both went by.
    assert first.breached == 2
    assert second.breached == 0
    assert sorted(SlaBreach.objects.filter(contact=contact).values_list("target", flat=True)) == [
        "decision",
        "first_response",
    ]
    assert SlaAlert.objects.filter(kind="breach").count() == 2
    assert len(mail.outbox) == 1  # one email per tenant and sweep, listing both
    assert mail.outbox[0].to == [lead.email]
    assert "breached" in mail.outbox[0].subject


def test_sweep_predicts_a_breach_twenty_minutes_ahead(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    SlaPolicy.objects.create(
        tenant=tenant, first_response_minutes=600, decision_minutes=240, business_hours={}
    )
    make_member(tenant, Role.LEAD)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    with time_machine.travel(start + timedelta(hours=3, minutes=30), tick=False):
        assert sla.sweep().warned == 0
    with time_machine.travel(start + timedelta(hours=3, minutes=45), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            result = sla.sweep()
        assert sla.sweep().warned == 0
    assert result.warned == 1 and result.breached == 0
    alert = SlaAlert.objects.get(kind="warning")
    assert alert.contact == contact
    assert "will breach" in mail.outbox[0].subject
    assert not SlaBreach.objects.exists()


def test_a_reply_in_time_meets_the_first_response_target(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    specialist = make_member(tenant, Role.SPECIALIST)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        send_reply(contact, specialist, "Looking into it now.")
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        result = sla.sweep()
    first = _clock(contact, SlaClock.Target.FIRST_RESPONSE)
    assert first.state == "stopped"
    assert first.stopped_at == start + timedelta(minutes=20)
    assert result.breached == 0
    assert not SlaBreach.objects.filter(target="first_response").exists()


def test_resolving_late_records_the_breach_at_once(django_capture_on_commit_callbacks):
    from desk.actions import reject_proposal

    tenant = make_tenant(decision_sla_hours=1)
    specialist = make_member(tenant, Role.SPECIALIST)
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        contact = _escalate(tenant, django_capture_on_commit_callbacks)
    later = start + timedelta(hours=3)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=False):
        reject_proposal(
            contact.current_proposal, specialist, reason_code="policy_denies", reply="No."
        )
    assert set(SlaBreach.objects.values_list("target", flat=True)) == {"decision", "first_response"}
    assert not contact.sla_clocks.exclude(state="stopped").exists()


def test_a_carrier_exception_opens_a_respond_within_clock(django_capture_on_commit_callbacks):
    tenant = make_tenant()
    order = make_order(tenant)
    contact = make_contact(tenant, order=order, body="where is it?")
    shipment = order.shipments.get()
    scan = datetime.now(UTC).replace(microsecond=0)  # newer than the factory's own scan
    record_tracking_event(
        shipment, occurred_at=scan, status="exception", description="Damaged", carrier_code="X9"
    )
    with time_machine.travel(scan + timedelta(minutes=5), tick=False):
        result = sweep_sla.apply().get()
    clock = _clock(contact, SlaClock.Target.CARRIER_RESPONSE)
    assert result["opened"] >= 1
    assert clock.started_at == scan
    assert clock.due_at == scan + timedelta(hours=4)
