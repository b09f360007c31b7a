"""What a stored carrier scan sets off: the nudge rules it may answer, and, for a
returned parcel delivered back to the merchant, the end of the desk's wait on the
carrier. One task per scan does both, so a scan whose task was lost is found by
one mark (``TrackingEvent.follow_up_due``) and followed up by the sweep."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from agents.nudges.engine import evaluate_events
from desk import actions as desk_actions
from integrations.models import TrackingEvent, TrackingStatus

log = logging.getLogger(__name__)

# A scan's follow-up task normally runs within seconds of the commit; after this long
# without it, the task was lost.
LOST_FOLLOW_UP_GRACE = timedelta(minutes=2)
# A nudge about a scan older than this would reach the customer too late to help (an
# "out for delivery" message after the van has gone): not sent. The desk's clocks
# resume whatever the scan's age.
MISSED_NUDGE_MAX_AGE = timedelta(hours=6)


def follow_up(event_ids: list[int], *, now: datetime | None = None, nudge: bool = True) -> int:
    """Follow up stored scans: their nudges (unless ``nudge`` is off) and returned
    parcels' arrival. Safe to repeat: a nudge is written once per key and resuming a
    clock that runs does nothing. Returns the nudge messages written."""
    now = now or timezone.now()
    written = evaluate_events(event_ids, now=now) if nudge and event_ids else []
    delivered = TrackingEvent.objects.filter(
        pk__in=event_ids, status=TrackingStatus.DELIVERED
    ).select_related("shipment")
    for event in delivered:
        desk_actions.return_parcel_delivered(event.shipment, now)
    # Done: the sweep passes them by. Should this worker die before this line, the
    # task is delivered again (late acknowledgement) and repeats the above harmlessly.
    TrackingEvent.objects.filter(pk__in=event_ids, follow_up_due=True).update(follow_up_due=False)
    return len(written)


def follow_up_missed(now: datetime | None = None, *, limit: int = 500) -> dict[str, int]:
    """Follow up the scans whose task was lost, as that task would have; those too old
    for a nudge only end the desk's waits. Safe to overlap with itself and the tasks."""
    now = now or timezone.now()
    due = list(
        TrackingEvent.objects.filter(follow_up_due=True, created_at__lt=now - LOST_FOLLOW_UP_GRACE)
        .order_by("created_at")
        .values_list("pk", "created_at")[:limit]
    )
    fresh = [pk for pk, created_at in due if created_at >= now - MISSED_NUDGE_MAX_AGE]
    stale = [pk for pk, created_at in due if created_at < now - MISSED_NUDGE_MAX_AGE]
    messages = follow_up(fresh, now=now) if fresh else 0
    if stale:
        follow_up(stale, now=now, nudge=False)
    if due:
        log.warning(
            "Followed up %d scans whose task was lost (%d nudges; %d too old to nudge)",
            len(due),
            messages,
            len(stale),
        )
    return {"followed_up": len(due), "messages": messages, "too_old_to_nudge": len(stale)}
