"""Retention for agent traces, and the nightly pass over every merchant.

Traces live here (agents sits above desk), so this module also runs the
desk's retention steps and writes one audit row per merchant per run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from agents.models import AgentRun, ToolCall
from desk import retention as desk_retention
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant

logger = logging.getLogger(__name__)


def blank_expired_traces(tenant: Tenant, now: datetime) -> int:
    """Blank the steps of runs started before the window and their tool calls'
    arguments and results; planner, outcome, tool names, tokens, latency and
    times stay for cost and quality figures. Returns how many runs."""
    cutoff = now - timedelta(days=tenant.agent_trace_retention_days)
    expired = AgentRun.objects.filter(
        tenant=tenant, started_at__lt=cutoff, trace_erased_at__isnull=True
    )
    blanked = 0
    while True:
        with transaction.atomic():
            batch = list(
                expired.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[: desk_retention.BATCH_SIZE]
            )
            if not batch:
                return blanked
            ToolCall.objects.filter(agent_run_id__in=batch).update(arguments={}, result=None)
            blanked += AgentRun.objects.filter(pk__in=batch).update(
                steps=[], trace_erased_at=timezone.now()
            )


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """One retention pass over every merchant, active or not; safe to run twice
    (the second finds nothing). Each merchant gets an audit row with its counts,
    zeros included, so the log shows the pass ran. Returns the totals."""
    now = now or timezone.now()
    totals = {"contacts": 0, "webhooks": 0, "traces": 0}
    for tenant in Tenant.objects.order_by("pk"):
        counts = {
            "contacts": desk_retention.erase_expired_contacts(tenant, now),
            "webhooks": desk_retention.blank_expired_webhook_payloads(tenant, now),
            "traces": blank_expired_traces(tenant, now),
        }
        audit(
            tenant,
            Actor.system("retention"),
            "retention.apply",
            tenant,
            {
                **counts,
                "days": {
                    "personal_data": tenant.personal_data_retention_days,
                    "webhook_payloads": tenant.webhook_payload_retention_days,
                    "agent_traces": tenant.agent_trace_retention_days,
                },
            },
        )
        for kind, n in counts.items():
            totals[kind] += n
    orphans = desk_retention.blank_expired_webhook_payloads(None, now)
    if orphans:
        logger.info("Retention blanked %d webhook deliveries of deleted connections", orphans)
    totals["webhooks"] += orphans
    return totals
