"""Changes to nudge rules, each with its audit row."""

from __future__ import annotations

from django.db import transaction

from agents.nudges.forms import NudgeRuleForm
from agents.nudges.models import NudgeRule
from desk.delivery import DESK_TRIGGER
from integrations.messaging import actions as outbox
from integrations.messaging.models import OutboundMessage
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant


@transaction.atomic
def save_rule(tenant: Tenant, form: NudgeRuleForm, actor: Actor) -> NudgeRule:
    """Create or update a rule from a valid form. Takes effect for the next scan."""
    rule = form.save(commit=False)
    created = rule.pk is None
    rule.tenant = tenant
    rule.save()
    audit(
        tenant,
        actor,
        "nudge_rule.create" if created else "nudge_rule.update",
        rule,
        {"trigger": rule.trigger, "channels": rule.channels, "is_active": rule.is_active},
    )
    return rule


def nudges(tenant: Tenant):
    """This merchant's proactive messages: what the outbox holds besides desk messages
    (which are sent again from their contact, where its claim applies)."""
    return OutboundMessage.objects.filter(tenant=tenant).exclude(trigger=DESK_TRIGGER)


def parcel_moved_on(message: OutboundMessage) -> bool:
    """Whether the parcel a nudge was about has since reached another status: sent now,
    "out for delivery" after the delivery would mislead. Reads the shipment the caller
    loaded with the message."""
    was = (message.context or {}).get("shipment_status")
    return bool(was and message.shipment and message.shipment.status != was)


class MovedOn(Exception):
    """A nudge about a parcel that has moved on is not sent again."""


def send_nudge_again(tenant: Tenant, public_id: str, actor: Actor) -> OutboundMessage | None:
    """Queue a failed nudge again, as an account manager decided after reading why it
    failed. None if this merchant has no such nudge. Raises ``MovedOn`` when its parcel
    has moved on, and the outbox's ``NotFailed`` unless it failed (a double click)."""
    message = nudges(tenant).select_related("shipment").filter(public_id=public_id).first()
    if message is None:
        return None
    if parcel_moved_on(message):
        raise MovedOn(
            f"The parcel is {message.shipment.get_status_display().lower()} now; "
            "this message would mislead."
        )
    return outbox.send_again(message, actor)
