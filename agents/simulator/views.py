"""The onboarding simulator: upload past tickets, watch the dry run, read the estimate."""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.policy.models import PolicyVersion
from agents.simulator import actions, tickets
from agents.simulator.access import get_simulation_for_member, get_simulator_tenant_for_member
from agents.simulator.forms import SimulationForm, proposed_contract
from agents.simulator.models import Simulation
from agents.simulator.replay import (
    DAYS_PLACED_BEFORE_DELIVERY,
    DAYS_PLACED_BEFORE_TICKET,
    DEFAULT_ORDER_TOTAL,
)
from agents.simulator.report import LEGACY_COST_PER_CONTACT
from tenants.actor import Actor

SAMPLE = Path(__file__).resolve().parent / "sample_tickets.csv"
RECENT = 10


def _run_url(slug: str, simulation: Simulation) -> str:
    return reverse("simulator:run", kwargs={"slug": slug, "simulation_id": simulation.public_id})


@require_http_methods(["GET", "POST"])
def simulator_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The upload form with the proposed contract, the CSV format, and recent runs."""
    tenant, _ = get_simulator_tenant_for_member(request.user, slug)
    form = SimulationForm(
        tenant, request.POST or None, request.FILES or None, initial=proposed_contract(tenant)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        simulation = actions.start_simulation(
            tenant,
            Actor.member(request.user),
            csv_text=form.csv_text,
            file_name=data["tickets"].name,
            currency=data["currency"],
            ai_resolution_price=data["ai_resolution_price"],
            human_resolution_price=data["human_resolution_price"],
            deflection_floor=data["deflection_floor_percent"] / 100,
            monthly_volume=data["monthly_volume"],
        )
        return redirect(_run_url(slug, simulation))
    recent = Simulation.objects.filter(tenant=tenant).defer("csv_text", "result")[:RECENT]
    context = {
        "tenant": tenant,
        "form": form,
        "recent": recent,
        "columns": tickets.COLUMNS,
        "legacy_cost": LEGACY_COST_PER_CONTACT,
        "max_rows": tickets.MAX_ROWS,
        "max_mb": tickets.MAX_BYTES // 1024 // 1024,
        "order_statuses": tickets.ORDER_STATUSES,
        "default_total": DEFAULT_ORDER_TOTAL,
        "days_before_delivery": DAYS_PLACED_BEFORE_DELIVERY,
        "days_before_ticket": DAYS_PLACED_BEFORE_TICKET,
        "has_policy": PolicyVersion.objects.filter(
            policy__tenant=tenant, status=PolicyVersion.Status.PUBLISHED
        ).exists(),
    }
    return render(request, "simulator/simulator.html", context, status=400 if form.errors else 200)


@require_GET
def simulation_page(request: HttpRequest, slug: str, simulation_id: str) -> HttpResponse:
    """Progress while it runs (HTMX polls the partial), the estimate when done."""
    tenant, simulation = get_simulation_for_member(request.user, slug, simulation_id)
    name = (
        "simulator/simulation.html#simulation-result"
        if request.htmx
        else "simulator/simulation.html"
    )
    context = {"tenant": tenant, "run": simulation, "legacy_cost": LEGACY_COST_PER_CONTACT}
    return render(request, name, context)


@require_POST
def rerun(request: HttpRequest, slug: str, simulation_id: str) -> HttpResponse:
    """The same file and prices again, against the policy and settings of today."""
    _, simulation = get_simulation_for_member(request.user, slug, simulation_id)
    again = actions.rerun_simulation(simulation, Actor.member(request.user))
    return redirect(_run_url(slug, again))


@require_GET
def sample_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """A sample export in the accepted format, to try the simulator or to copy."""
    get_simulator_tenant_for_member(request.user, slug)
    response = HttpResponse(SAMPLE.read_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sample-tickets.csv"'
    return response
