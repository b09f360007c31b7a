"""Each stored scan is followed up once by one task (its nudges; a returned parcel's
arrival ending the desk's wait on the carrier), and a scan whose task the broker lost
is followed up by a sweep, as its task would have."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.nudges.tasks import follow_up_missed_scans, follow_up_scan
from desk import actions
from desk.actions import ProposalDraft, submit_proposal
from desk.models import SlaClock
from integrations.messaging.models import OutboundMessage
from integrations.models import Return, Shipment, TrackingEvent
from tenants.actor import Actor
from tests.agents.nudges.helpers import make_rule, scan
from tests.factories import make_contact, make_order

pytestmark = pytest.mark.django_db


def _messages(tenant):
    return list(OutboundMessage.objects.filter(tenant=tenant, trigger="out_for_delivery"))


def _lost(event, *, minutes):
    """A scan stored that long ago whose follow-up task the broker lost."""
    TrackingEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_scan_whose_task_was_lost_is_nudged_by_the_sweep_once(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery")  # its task never ran
    assert TrackingEvent.objects.get(pk=event.pk).follow_up_due
    assert follow_up_missed_scans.run()["followed_up"] == 0  # the task may be on its way
    _lost(event, minutes=3)
    assert follow_up_missed_scans.run() == {
        "followed_up": 1,
        "messages": 1,
        "too_old_to_nudge": 0,
    }
    assert len(_messages(tenant)) == 1
    assert not TrackingEvent.objects.get(pk=event.pk).follow_up_due
    assert follow_up_missed_scans.run()["followed_up"] == 0
    assert follow_up_scan.run(tracking_event_id=event.pk) == 0  # the task, late after all
    assert len(_messages(tenant)) == 1


def test_a_scan_its_task_followed_up_is_not_swept(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery")
    assert follow_up_scan.run(tracking_event_id=event.pk) == 1
    _lost(event, minutes=3)
    assert follow_up_missed_scans.run()["followed_up"] == 0
    assert len(_messages(tenant)) == 1


def test_a_lost_scan_too_old_to_help_is_not_nudged(tenant, shipment):
    make_rule(tenant)
    event = scan(shipment, "out_for_delivery", at=timezone.now() - timedelta(hours=7))
    _lost(event, minutes=7 * 60)
    assert follow_up_missed_scans.run() == {
        "followed_up": 1,
        "messages": 0,
        "too_old_to_nudge": 1,
    }
    assert _messages(tenant) == []
    assert not TrackingEvent.objects.get(pk=event.pk).follow_up_due


def _waiting_on_a_return(tenant):
    """An escalated refund whose return label is out: its clocks wait on the carrier."""
    order = make_order(tenant, total="300.00", shipment_status="delivered")
    contact = make_contact(tenant, order=order, body="refund please")
    submit_proposal(
        contact,
        ProposalDraft(
            kind="refund",
            amount=Decimal("300.00"),
            currency="USD",
            reply_draft="Refunded.",
            confidence=Decimal("0.9"),
            rationale="",
        ),
        guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "above"}],
        actor=Actor.agent(),
    )
    Return.objects.create(
        tenant=tenant,
        order=order,
        label_carrier="ups",
        label_tracking_number="1ZRETURN0001",
        idempotency_key="return-1",
    )
    assert actions.wait_on_carrier(order) > 0
    back = Shipment.objects.create(
        tenant=tenant, order=order, carrier="ups", tracking_number="1ZRETURN0001"
    )
    return contact, back


def _carrier_paused(contact) -> int:
    return SlaClock.objects.filter(
        contact=contact, state="paused", pause_reason=SlaClock.PauseReason.CARRIER
    ).count()


def test_the_returned_parcels_arrival_ends_the_desks_wait_through_the_scans_task(tenant):
    contact, back = _waiting_on_a_return(tenant)
    event = scan(back, "delivered")
    follow_up_scan.run(tracking_event_id=event.pk)
    assert _carrier_paused(contact) == 0


def test_a_lost_task_for_a_returned_parcel_still_ends_the_wait_however_old(tenant):
    contact, back = _waiting_on_a_return(tenant)
    event = scan(back, "delivered", at=timezone.now() - timedelta(hours=8))
    _lost(event, minutes=8 * 60)
    assert _carrier_paused(contact) > 0
    assert follow_up_missed_scans.run()["too_old_to_nudge"] == 1
    assert _carrier_paused(contact) == 0
