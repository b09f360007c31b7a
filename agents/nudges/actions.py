"""Changes to nudge rules, each with its audit row."""

from __future__ import annotations

from django.db import transaction

from agents.nudges.forms import NudgeRuleForm
from agents.nudges.models import NudgeRule
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
