"""Rules and scans written for the test at hand."""

from __future__ import annotations

from datetime import datetime, time

from django.utils import timezone

from agents.nudges.models import NudgeRule
from integrations.actions import record_tracking_event
from integrations.models import Shipment, TrackingEvent

TEMPLATES = {
    "en": {
        "subject": "Order {{ order_number }}: {{ status }}",
        "body": "Hi {{ first_name }}, your {{ carrier }} parcel {{ tracking_number }}: {{ status }}.",
        "whatsapp_template": "shipping_update",
        "whatsapp_language": "en_US",
        "whatsapp_params": ["first_name", "order_number"],
    },
    "fr": {"subject": "Commande {{ order_number }}", "body": "Bonjour {{ first_name }} !"},
}


def make_rule(tenant, trigger="out_for_delivery", **fields) -> NudgeRule:
    fields.setdefault("name", f"{trigger} nudge")
    fields.setdefault("templates", TEMPLATES)
    # No quiet hours unless the test is about them.
    fields.setdefault("quiet_start", None)
    fields.setdefault("quiet_end", None)
    return NudgeRule.objects.create(tenant=tenant, trigger=trigger, **fields)


def scan(
    shipment: Shipment,
    status: str,
    *,
    at: datetime | None = None,
    substatus: str = "",
    code: str = "S",
) -> TrackingEvent | None:
    return record_tracking_event(
        shipment,
        occurred_at=at or timezone.now(),
        status=status,
        substatus=substatus,
        description=f"Scan {status}",
        carrier_code=code,
    )


def quiet(start: str, end: str) -> dict:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return {"quiet_start": time(h1, m1), "quiet_end": time(h2, m2)}
