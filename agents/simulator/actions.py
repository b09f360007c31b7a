"""Starting a simulation, running it batch by batch, finishing it; each audited."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError, transaction
from django.utils import timezone

from agents.llm import config as llm_config
from agents.simulator import report, tickets
from agents.simulator.models import Simulation
from agents.simulator.replay import replay
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Tickets per task: small enough that a batch stays well inside the task's time
# limit, large enough that re-reading the file is cheap. An LLM planner takes
# seconds per ticket where the embedded one takes a fraction of one.
BATCH = 50
LLM_BATCH = 10
BAD_ROWS_KEPT = 500


def _enqueue(simulation: Simulation, offset: int) -> None:
    from desk.celery import app

    kwargs = {"simulation_id": simulation.pk, "offset": offset}
    transaction.on_commit(lambda: app.send_task("agents.run_simulation", kwargs=kwargs))


@transaction.atomic
def start_simulation(
    tenant: Tenant,
    actor: Actor,
    *,
    csv_text: str,
    file_name: str,
    currency: str,
    ai_resolution_price: Decimal,
    human_resolution_price: Decimal,
    deflection_floor: Decimal,
    monthly_volume: int | None = None,
) -> Simulation:
    """Record a simulation of an export and queue its first batch; the page polls progress.

    Unreadable rows are reported now, with their row numbers; raises
    tickets.FileRefused for a file that is not an export at all."""
    tz = ZoneInfo(tenant.time_zone)
    export = tickets.read(csv_text, tz)
    first, last = export.first_at, export.last_at
    simulation = Simulation.objects.create(
        tenant=tenant,
        file_name=file_name[:200],
        csv_text=csv_text,
        currency=currency,
        ai_resolution_price=ai_resolution_price,
        human_resolution_price=human_resolution_price,
        deflection_floor=deflection_floor,
        monthly_volume=monthly_volume,
        total=len(export.tickets),
        created_by=actor.user,
        result={
            "columns": export.columns,
            "bad_rows": export.bad_rows[:BAD_ROWS_KEPT],
            "bad_row_count": len(export.bad_rows),
            "first_day": first.astimezone(tz).date().isoformat() if first else None,
            "last_day": last.astimezone(tz).date().isoformat() if last else None,
            "tally": report.empty_tally(),
        },
    )
    audit(
        tenant,
        actor,
        "simulation.start",
        simulation,
        {
            "file": simulation.file_name,
            "tickets": simulation.total,
            "bad_rows": len(export.bad_rows),
            "currency": currency,
            "ai_resolution_price": str(ai_resolution_price),
            "human_resolution_price": str(human_resolution_price),
            "deflection_floor": str(deflection_floor),
        },
    )
    _enqueue(simulation, 0)
    return simulation


def rerun_simulation(simulation: Simulation, actor: Actor) -> Simulation:
    """The same tickets at the same prices, against today's policy and autonomy settings."""
    return start_simulation(
        simulation.tenant,
        actor,
        csv_text=simulation.csv_text,
        file_name=simulation.file_name,
        currency=simulation.currency,
        ai_resolution_price=simulation.ai_resolution_price,
        human_resolution_price=simulation.human_resolution_price,
        deflection_floor=simulation.deflection_floor,
        monthly_volume=simulation.monthly_volume,
    )


def _failed_outcome(ticket: tickets.Ticket, exc: Exception) -> dict[str, Any]:
    return {
        "row": ticket.row,
        "ticket": ticket.ticket_id,
        "intent": "other",
        "action": "none",
        "amount": "",
        "by": "human",
        "reason": "agent_error",
        "detail": f"{type(exc).__name__}: {exc}"[:200],
    }


def run_batch(simulation_id: int, offset: int) -> str:
    """Replay the tickets from ``offset`` on (one batch), count them, queue the next batch.

    Holds the simulation row's lock for the batch, and only the batch that starts
    at ``done`` runs: a redelivered or duplicate task finds the count moved on and
    skips, so no ticket is counted twice. Each ticket runs in its own rolled-back
    savepoint, so nothing of the agent's work survives the batch."""
    with transaction.atomic():
        simulation = (
            Simulation.objects.select_for_update()
            .select_related("tenant")
            .filter(pk=simulation_id)
            .first()
        )
        if simulation is None or simulation.is_finished or simulation.done != offset:
            return "skipped"
        tenant = simulation.tenant
        export = tickets.read(simulation.csv_text, ZoneInfo(tenant.time_zone))
        size = LLM_BATCH if llm_config.configured() else BATCH
        batch = export.tickets[offset : offset + size]
        tally = simulation.result.get("tally") or report.empty_tally()
        now = timezone.now()
        for ticket in batch:
            try:
                outcome = replay(tenant, ticket, now)
            except (SoftTimeLimitExceeded, OperationalError):
                raise
            except Exception as exc:
                # The desk would escalate a case the agent fails on; so does the estimate.
                logger.exception(
                    "Simulation %s: ticket on row %s failed", simulation_id, ticket.row
                )
                outcome = _failed_outcome(ticket, exc)
            report.add(tally, outcome)
        simulation.result["tally"] = tally
        simulation.done = offset + len(batch)
        simulation.status = Simulation.Status.RUNNING
        if simulation.done >= simulation.total:
            _finish(simulation)
        else:
            _enqueue(simulation, simulation.done)
        simulation.save()
        return simulation.status


def _finish(simulation: Simulation) -> None:
    result = simulation.result
    first, last = result.get("first_day"), result.get("last_day")
    summary = report.summarise(
        result["tally"],
        ai_price=simulation.ai_resolution_price,
        human_price=simulation.human_resolution_price,
        floor=simulation.deflection_floor,
        first=date.fromisoformat(first) if first else None,
        last=date.fromisoformat(last) if last else None,
        given_volume=simulation.monthly_volume,
    )
    result["summary"] = summary
    simulation.status = Simulation.Status.DONE
    simulation.finished_at = timezone.now()
    audit(
        simulation.tenant,
        Actor.system("simulator"),
        "simulation.finish",
        simulation,
        {
            "tickets": summary["tickets"],
            "deflection_percent": summary["deflection_percent"],
            "monthly_price": summary["month"]["price"],
            "monthly_legacy": summary["month"]["legacy"],
        },
    )


def fail_simulation(simulation_id: int, error: str) -> None:
    """Mark a simulation failed (its task hit an error it cannot retry)."""
    Simulation.objects.filter(pk=simulation_id).exclude(status=Simulation.Status.DONE).update(
        status=Simulation.Status.FAILED, error=error[:2000], finished_at=timezone.now()
    )
