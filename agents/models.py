"""Traces of what the agent did for a contact: one AgentRun per attempt."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from desk.models import Contact
from tenants.models import Tenant


class AgentRun(models.Model):
    """One pass of the agent over a contact, with each tool call it made."""

    class Outcome(models.TextChoices):
        RUNNING = "running"
        RESOLVED = "resolved"
        ESCALATED = "escalated"
        FAILED = "failed"
        SKIPPED = "skipped"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="agent_runs")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="agent_runs")
    planner = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    steps = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Token accounting for the contact: what the LLM planner spent (zero when embedded).
    llm_calls = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    # What those tokens cost at the model's list price (agents.llm.config).
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set when retention blanked the steps and tool inputs/outputs; counts stay.
    trace_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # The few runs in progress, for the sweep that closes a killed worker's.
            models.Index(
                fields=["started_at"],
                name="agent_run_running",
                condition=models.Q(outcome="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.planner} run on {self.contact_id}: {self.outcome}"


class ToolCall(models.Model):
    """One tool the agent used during a run: its arguments, its result, what it cost."""

    agent_run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="tool_calls")
    name = models.CharField(max_length=48)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True, null=True)
    latency_ms = models.FloatField(default=0)
    tokens = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} in run {self.agent_run_id}"


from agents.nudges.models import *  # noqa: E402, F403
from agents.policy.models import *  # noqa: E402, F403
from agents.simulator.models import *  # noqa: E402, F403
