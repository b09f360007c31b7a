"""The onboarding simulator over 1,000 past tickets, end to end (target: under 10 minutes).

Builds a 1,000-ticket export in the sample's intent mix (BENCH_SIMULATOR_TICKETS to
change it), publishes the 62-rule apparel policy on a `bench-simulator` tenant and
runs every batch the way the Celery task does: each ticket replayed through the
real agent in a rolled-back savepoint."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

TICKETS = int(os.environ.get("BENCH_SIMULATOR_TICKETS", "1000"))
POLICY = (
    Path(__file__).resolve().parent.parent / "agents" / "policy" / "demo" / "northwind-apparel.yaml"
)


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from agents.policy.actions import import_policy
    from agents.simulator import actions
    from agents.simulator.models import Simulation
    from agents.simulator.sample import build_rows, to_csv
    from desk.models import Contact
    from tenants.actor import Actor
    from tenants.models import Tenant
    from tests.factories import make_tenant

    tenant = Tenant.objects.filter(slug="bench-simulator").first()
    if tenant is None:
        tenant = make_tenant("bench-simulator", name="Bench simulator")
        import_policy(tenant, POLICY.read_text(), Actor.system(), publish=True)
    contacts_before = Contact.objects.filter(tenant=tenant).count()
    # Batches run here one after the other instead of through the broker.
    with mock.patch.object(actions, "_enqueue"):
        simulation = actions.start_simulation(
            tenant,
            Actor.system("bench"),
            csv_text=to_csv(build_rows(TICKETS, days=30)),
            file_name="bench.csv",
            currency="USD",
            ai_resolution_price=Decimal("1.40"),
            human_resolution_price=Decimal("5.20"),
            deflection_floor=Decimal("0.700"),
        )
        started = time.monotonic()
        offset = 0
        while actions.run_batch(simulation.pk, offset) == Simulation.Status.RUNNING:
            offset = Simulation.objects.get(pk=simulation.pk).done
        seconds = time.monotonic() - started
    simulation.refresh_from_db()
    summary = simulation.result["summary"]
    left = Contact.objects.filter(tenant=tenant).count() - contacts_before
    return [
        {
            "metric": f"simulate {summary['tickets']:,} past tickets "
            f"(deflection {summary['deflection_percent']}%)",
            "value": round(seconds, 1),
            "unit": "s",
            "target": "< 600 s",
            "pass": seconds < 600 and left == 0,
        },
        {
            "metric": "simulator throughput",
            "value": round(summary["tickets"] / seconds, 1),
            "unit": "tickets/s",
            "target": "—",
            "pass": True,
        },
    ]
