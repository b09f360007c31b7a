"""The one tracking schema every carrier's payload is mapped into.

Parsers return plain dataclasses (no ORM) so they stay fast and can run in a
management command, a Celery task or a benchmark alike. Statuses are the nine
of ``TrackingStatus``; substatuses are our own vocabulary for what people act
on, each tied to AfterShip's subtag where one exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models

from integrations.models import TrackingStatus


class Substatus(models.TextChoices):
    """What a person or a nudge acts on, finer than the nine statuses."""

    CUSTOMS_HOLD = "customs_hold", "Held by customs"
    CUSTOMS_DOCUMENTS = "customs_documents", "Customs documents missing"
    DUTIES_DUE = "duties_due", "Held for payment of duties"
    ADDRESS_PROBLEM = "address_problem", "Address problem"
    CUSTOMER_MOVED = "customer_moved", "Recipient moved"
    DAMAGED = "damaged", "Damaged"
    LOST = "lost", "Lost"
    REFUSED = "refused", "Refused by recipient"
    RETURNING_TO_SENDER = "returning_to_sender", "Returning to sender"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"
    WEATHER_DELAY = "weather_delay", "Weather delay"
    CARRIER_DELAY = "carrier_delay", "Carrier delay"
    HELD_AT_DEPOT = "held_at_depot", "Held at depot"
    NOT_COLLECTED = "not_collected", "Not collected from pickup point"
    CANCELLED = "cancelled", "Shipment cancelled"
    DESTROYED = "destroyed", "Destroyed or seized"
    REROUTED = "rerouted", "Rerouted"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable", "Recipient not available"
    BUSINESS_CLOSED = "business_closed", "Business closed"
    FINAL_ATTEMPT = "final_attempt", "Final delivery attempt failed"
    DELIVERED_TO_NEIGHBOUR = "delivered_to_neighbour", "Delivered to a neighbour"
    DELIVERED_SAFE_PLACE = "delivered_safe_place", "Left in a safe place"
    DELIVERED_TO_LOCKER = "delivered_to_locker", "Delivered to a parcel locker"
    COLLECTED_BY_RECIPIENT = "collected_by_recipient", "Collected by the recipient"
    SIGNED_FOR = "signed_for", "Signed for"


# Our substatus -> AfterShip subtag (docs/aftership_subtags). Substatuses with
# no AfterShip equivalent map to None and stay ours alone.
AFTERSHIP_SUBTAG: dict[str, str | None] = {
    Substatus.CUSTOMS_HOLD: "Exception_004",
    Substatus.CUSTOMS_DOCUMENTS: "Exception_018",
    Substatus.DUTIES_DUE: "Exception_006",
    Substatus.ADDRESS_PROBLEM: "Exception_007",
    Substatus.CUSTOMER_MOVED: "Exception_002",
    Substatus.DAMAGED: "Exception_012",
    Substatus.LOST: "Exception_013",
    Substatus.REFUSED: "Exception_003",
    Substatus.RETURNING_TO_SENDER: "Exception_010",
    Substatus.RETURNED_TO_SENDER: "Exception_011",
    Substatus.WEATHER_DELAY: "Exception_017",
    Substatus.CARRIER_DELAY: "Exception_016",
    Substatus.HELD_AT_DEPOT: None,
    Substatus.NOT_COLLECTED: "Exception_008",
    Substatus.CANCELLED: "Exception_020",
    Substatus.DESTROYED: "Exception_021",
    Substatus.REROUTED: "InTransit_009",
    Substatus.RECIPIENT_UNAVAILABLE: "AttemptFail_002",
    Substatus.BUSINESS_CLOSED: "AttemptFail_003",
    Substatus.FINAL_ATTEMPT: None,
    Substatus.DELIVERED_TO_NEIGHBOUR: "Delivered_005",
    Substatus.DELIVERED_SAFE_PLACE: None,
    Substatus.DELIVERED_TO_LOCKER: None,
    Substatus.COLLECTED_BY_RECIPIENT: "Delivered_002",
    Substatus.SIGNED_FOR: "Delivered_003",
}

# The reverse, for aggregators that hand us AfterShip subtags.
SUBSTATUS_FOR_AFTERSHIP_SUBTAG: dict[str, str] = {
    subtag: sub for sub, subtag in AFTERSHIP_SUBTAG.items() if subtag
}
SUBSTATUS_FOR_AFTERSHIP_SUBTAG["Exception_005"] = Substatus.CARRIER_DELAY
SUBSTATUS_FOR_AFTERSHIP_SUBTAG["Exception_019"] = Substatus.CARRIER_DELAY


class Outcome(models.TextChoices):
    FOUND = "found"
    NOT_FOUND = "not_found"
    ERROR = "error"


@dataclass(slots=True)
class Location:
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2 when the carrier lets us know it
    postal_code: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "city": self.city,
            "region": self.region,
            "country": self.country,
            "postal_code": self.postal_code,
        }

    def __bool__(self) -> bool:
        return bool(self.city or self.region or self.country or self.postal_code)


@dataclass(slots=True)
class Event:
    """One carrier scan in our schema; ``code`` is the carrier's own code."""

    occurred_at: datetime | None
    status: str
    code: str
    description: str = ""
    substatus: str = ""
    location: Location = field(default_factory=Location)
    is_mapped: bool = True
    raw: Any = None

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "status": self.status,
            "substatus": self.substatus,
            "code": self.code,
            "description": self.description,
            # Spelled out rather than loc.as_dict(): this runs once per scan.
            "location": {
                "city": loc.city,
                "region": loc.region,
                "country": loc.country,
                "postal_code": loc.postal_code,
            },
            "is_mapped": self.is_mapped,
        }


@dataclass(slots=True)
class TrackingResult:
    """A carrier response in our schema: found, not found, or an error.

    Not-found and error responses are results too, never exceptions, so a
    poller can record them and move on."""

    carrier: str
    outcome: str = Outcome.FOUND
    tracking_number: str = ""
    status: str = TrackingStatus.PENDING
    substatus: str = ""
    estimated_delivery: date | None = None
    events: list[Event] = field(default_factory=list)
    message: str = ""
    error_code: str = ""
    pieces: int = 1

    @property
    def unmapped_codes(self) -> list[str]:
        return sorted({e.code for e in self.events if not e.is_mapped and e.code})

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "carrier": self.carrier,
            "outcome": self.outcome,
            "tracking_number": self.tracking_number,
            "status": self.status if self.outcome == Outcome.FOUND else None,
            "substatus": self.substatus,
            "estimated_delivery": (
                self.estimated_delivery.isoformat() if self.estimated_delivery else None
            ),
            "events": [e.as_dict() for e in self.events],
            "unmapped_codes": self.unmapped_codes,
        }
        if self.outcome != Outcome.FOUND:
            data["error"] = {"code": self.error_code, "message": self.message}
        return data


# --- incident flags --------------------------------------------------------


class Incident(models.TextChoices):
    NOT_SCANNED = "not_scanned", "Label created but never scanned"
    STALLED = "stalled", "No scan for several days"
    LATE = "late", "Past the estimated delivery date"
    FINAL_ATTEMPT_FAILED = "final_attempt_failed", "Final delivery attempt failed"


# Statuses after which a shipment no longer moves, so it cannot stall.
_SETTLED = {TrackingStatus.DELIVERED, TrackingStatus.EXPIRED}
# Most carriers give up after the third attempt and start the return.
FINAL_ATTEMPT_COUNT = 3
# Days of silence before a label without a scan, or a moving shipment, needs a look.
NOT_SCANNED_DAYS = 3
STALLED_DAYS = 5


def incident_flags(
    events: list[Event],
    *,
    now: datetime,
    label_created_at: datetime | None = None,
    estimated_delivery: date | None = None,
    not_scanned_days: int = NOT_SCANNED_DAYS,
    stalled_days: int = STALLED_DAYS,
) -> list[str]:
    """Incidents a human should know about, computed from the event stream alone.

    ``events`` may come in any order. ``label_created_at`` defaults to the
    first info-received event."""
    timed = sorted((e for e in events if e.occurred_at), key=lambda e: e.occurred_at)
    flags: list[str] = []
    scans = [
        e for e in timed if e.status not in (TrackingStatus.INFO_RECEIVED, TrackingStatus.PENDING)
    ]
    latest = timed[-1] if timed else None
    settled = latest is not None and latest.status in _SETTLED

    if label_created_at is None:
        label_created_at = next(
            (e.occurred_at for e in timed if e.status == TrackingStatus.INFO_RECEIVED), None
        )
    if not scans and label_created_at and now - label_created_at > timedelta(days=not_scanned_days):
        flags.append(Incident.NOT_SCANNED)
    if scans and not settled and now - scans[-1].occurred_at > timedelta(days=stalled_days):
        flags.append(Incident.STALLED)
    if estimated_delivery and not settled and now.date() > estimated_delivery:
        flags.append(Incident.LATE)

    attempts = [e for e in timed if e.status == TrackingStatus.FAILED_ATTEMPT]
    if (
        not settled
        and attempts
        and (
            any(e.substatus == Substatus.FINAL_ATTEMPT for e in attempts)
            or len(attempts) >= FINAL_ATTEMPT_COUNT
        )
    ):
        flags.append(Incident.FINAL_ATTEMPT_FAILED)
    return flags
