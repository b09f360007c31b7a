"""SLA board server time at desk scale.

Uses the load tenants of ``manage.py seed_load`` (20 × 50,000 contacts, reused
when present), gives the load user a team-lead membership in each, adds CSAT
answers for one resolved contact in twenty (once), and times through Django's
request handler: the cross-tenant overview over every range it offers (last
24 h, 7 days, 30 days, month to date) and one merchant's board. Closed days are
summarised first, as the beat task keeps them (``desk.refresh_board_days``);
how long that took for the whole load is reported too."""

from __future__ import annotations

import os
import statistics
import time

TENANTS = int(os.environ.get("BENCH_TENANTS", "20"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "50000"))
OPEN = int(os.environ.get("BENCH_OPEN", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "60"))
TARGET_MS = 300

CSAT_SQL = """
INSERT INTO desk_csatresponse (tenant_id, contact_id, resolution, score, comment, created_at, updated_at)
SELECT c.tenant_id, c.id, c.resolution, 1 + (c.id * 7) % 5, '', c.resolved_at, c.resolved_at
FROM desk_contact c JOIN tenants_tenant t ON t.id = c.tenant_id
WHERE t.slug LIKE 'load-%' AND c.status = 'resolved' AND c.id % 20 = 0
ON CONFLICT (contact_id) DO NOTHING
"""


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _time(client, url: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.get(url, params or {})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed * 1000


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from desk import rollups
    from desk.models import BoardDay, BoardDayFigure, Contact
    from tenants.models import Membership, Tenant, User
    from tenants.roles import Role

    call_command("migrate", "desk", verbosity=0)
    call_command("seed_load", tenants=TENANTS, contacts_per_tenant=CONTACTS, open_escalations=OPEN)
    user = User.objects.get(email="load-specialist@example.com")
    tenants = list(Tenant.objects.filter(slug__startswith="load-").order_by("slug")[:TENANTS])
    Membership.objects.filter(user=user, tenant__in=tenants).update(role=Role.LEAD)
    with connection.cursor() as cursor:
        cursor.execute(CSAT_SQL)
        cursor.execute("ANALYZE desk_csatresponse")
    total = Contact.objects.filter(tenant__in=tenants).count()
    # From scratch each run, so the figure means the same thing every time.
    BoardDay.objects.filter(tenant__in=tenants).delete()
    BoardDayFigure.objects.filter(tenant__in=tenants).delete()
    started = time.perf_counter()
    summarised = 0
    while batch := rollups.refresh_due(limit=200):
        summarised += batch
    refresh_ms = (time.perf_counter() - started) * 1000

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    overview = reverse("desk:board")
    one = reverse("desk:tenant-board", kwargs={"slug": tenants[0].slug})
    for _ in range(5):  # warm caches and connections
        _time(client, overview)
        _time(client, one)
    default_range = [_time(client, overview) for _ in range(RUNS)]
    week = [_time(client, overview, {"range": "7d"}) for _ in range(RUNS)]
    month = [_time(client, overview, {"range": "30d"}) for _ in range(RUNS)]
    month_to_date = [_time(client, overview, {"range": "mtd"}) for _ in range(RUNS)]
    tenant_board = [_time(client, one) for _ in range(RUNS)]
    scale = f"{total:,} contacts, {len(tenants)} tenants"

    def figure(name: str, values: list[float], target: int | None) -> dict:
        p95 = _p95(values)
        return {
            "metric": f"{name} p95 ({scale})",
            "value": round(p95, 1),
            "unit": "ms",
            "target": f"≤ {target} ms" if target else "none (reported)",
            "pass": p95 <= target if target else True,
            "median": round(statistics.median(values), 1),
        }

    return [
        figure("cross-tenant board, last 24 h (default)", default_range, TARGET_MS),
        figure("cross-tenant board, last 7 days", week, TARGET_MS),
        figure("cross-tenant board, last 30 days", month, TARGET_MS),
        figure("cross-tenant board, month to date", month_to_date, TARGET_MS),
        figure("one merchant's board, last 24 h", tenant_board, TARGET_MS),
        {
            "metric": f"summarising closed days from scratch ({summarised} tenant-days, {scale})",
            "value": round(refresh_ms),
            "unit": "ms",
            "target": "none (reported; the beat task does it once a day per tenant)",
            "pass": True,
        },
    ]
