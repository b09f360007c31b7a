"""What specialists change: overrides grouped by week, intent and the guardrail
that escalated, so leads can see where the agent or the policy is wrong."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from desk.models import Decision
from tenants.models import Tenant

CHANGED = [Decision.Outcome.EDIT, Decision.Outcome.OVERRIDE, Decision.Outcome.REJECT]


@dataclass(frozen=True)
class WeekGroup:
    week: datetime
    total_decisions: int
    changed: int
    by_intent: list[tuple[str, int]]
    by_guardrail: list[tuple[str, int]]

    @property
    def override_rate(self) -> float:
        return self.changed / self.total_decisions if self.total_decisions else 0.0


def decisions(tenant: Tenant, weeks: int) -> QuerySet[Decision]:
    since = timezone.now() - timedelta(weeks=weeks)
    return (
        Decision.objects.filter(tenant=tenant, created_at__gte=since)
        .exclude(outcome=Decision.Outcome.CO_APPROVE)
        .select_related("proposal__contact", "decided_by")
        .order_by("-created_at")
    )


def weekly(tenant: Tenant, weeks: int = 8) -> list[WeekGroup]:
    """One group per ISO week, newest first (one query)."""
    buckets: dict[datetime, list[Decision]] = defaultdict(list)
    for decision in decisions(tenant, weeks):
        day = decision.created_at.date()
        monday = day - timedelta(days=day.weekday())
        buckets[monday].append(decision)
    groups = []
    for week, rows in sorted(buckets.items(), reverse=True):
        changed = [d for d in rows if d.outcome in CHANGED]
        intents = Counter(d.proposal.contact.intent or "unknown" for d in changed)
        guardrails = Counter(
            next((g["name"] for g in d.proposal.guardrails if not g.get("passed")), "none")
            for d in changed
        )
        groups.append(
            WeekGroup(
                week, len(rows), len(changed), intents.most_common(), guardrails.most_common()
            )
        )
    return groups
