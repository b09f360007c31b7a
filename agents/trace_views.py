"""The agent's trace for a contact: every run, its steps and tool calls."""

from __future__ import annotations

from django.db.models import Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.models import AgentRun, ToolCall
from desk.access import get_contact_for_member
from tenants.roles import Permission


@require_GET
def trace_page(request: HttpRequest, contact_id: str) -> HttpResponse:
    contact, _ = get_contact_for_member(request.user, contact_id, Permission.VIEW_CONTACTS)
    runs = (
        AgentRun.objects.filter(contact=contact)
        .prefetch_related(
            Prefetch("tool_calls", queryset=ToolCall.objects.order_by("created_at", "id"))
        )
        .order_by("started_at")
    )
    # What the agent spent on this contact, every run together.
    spent = AgentRun.objects.filter(contact=contact).aggregate(
        llm_calls=Sum("llm_calls"),
        prompt_tokens=Sum("prompt_tokens"),
        completion_tokens=Sum("completion_tokens"),
        cost_usd=Sum("cost_usd"),
    )
    return render(request, "agents/trace.html", {"contact": contact, "runs": runs, "spent": spent})
