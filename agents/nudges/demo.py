"""Demo nudge rules, so a fresh desk shows the outbox at work."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from agents.nudges.engine import evaluate_events
from agents.nudges.models import NudgeRule
from integrations.models import TrackingEvent
from tenants.models import Tenant

Trigger = NudgeRule.Trigger

DEMO_RULES: list[dict] = [
    {
        "name": "Out for delivery",
        "trigger": Trigger.OUT_FOR_DELIVERY,
        "channels": ["sms", "email"],
        "templates": {
            "en": {
                "subject": "Order {{ order_number }} arrives today",
                "body": "Hi {{ first_name }}, your order {{ order_number }} is out for delivery "
                "with {{ carrier }} ({{ tracking_number }}).",
            },
            "fr": {
                "subject": "Commande {{ order_number }} livrée aujourd'hui",
                "body": "Bonjour {{ first_name }}, votre commande {{ order_number }} est en cours "
                "de livraison ({{ carrier }} {{ tracking_number }}).",
            },
        },
    },
    {
        "name": "Delivery problem",
        "trigger": Trigger.EXCEPTION,
        "substatuses": ["address_problem", "customs_hold", "customs_documents", "duties_due"],
        "channels": ["whatsapp", "email"],
        "templates": {
            "en": {
                "subject": "Action needed on order {{ order_number }}",
                "body": "Hi {{ first_name }}, {{ carrier }} reports: {{ substatus }}. "
                "Reply to this message and we will sort it out.",
                "whatsapp_template": "delivery_problem",
                "whatsapp_language": "en_US",
                "whatsapp_params": ["first_name", "order_number", "substatus"],
            }
        },
    },
    {
        "name": "Missed delivery",
        "trigger": Trigger.FAILED_ATTEMPT,
        "channels": ["sms", "email"],
        "templates": {
            "en": {
                "subject": "We missed you: order {{ order_number }}",
                "body": "Hi {{ first_name }}, {{ carrier }} tried to deliver order "
                "{{ order_number }} and will try again.",
            }
        },
    },
    {
        "name": "Stalled parcel",
        "trigger": Trigger.STALLED,
        "delay_days": 4,
        "channels": ["email"],
        "templates": {
            "en": {
                "subject": "An update on order {{ order_number }}",
                "body": "Hi {{ first_name }}, your parcel has not moved for a few days. We are "
                "on it with {{ carrier }} and will write again when it does.",
            }
        },
    },
]


def seed_demo_nudges(tenants: list[Tenant] | None = None) -> int:
    """Give each tenant the demo rules (once) and evaluate the last day's scans against
    them. Idempotent: rules are matched by name, nudges by their keys. Nothing is sent
    here; the outbox sweep sends what is due. Returns the number of rules created."""
    created = 0
    for tenant in tenants if tenants is not None else Tenant.objects.filter(is_active=True):
        for spec in DEMO_RULES:
            fields = {k: v for k, v in spec.items() if k != "name"}
            _, made = NudgeRule.objects.get_or_create(
                tenant=tenant, name=spec["name"], defaults=fields
            )
            created += made
        recent = TrackingEvent.objects.filter(
            shipment__tenant=tenant, occurred_at__gte=timezone.now() - timedelta(days=1)
        ).values_list("pk", flat=True)
        ids = list(recent[:2000])
        for start in range(0, len(ids), 500):
            evaluate_events(ids[start : start + 500], enqueue=False)
    return created
