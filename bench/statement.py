"""A month's statement over 50,000 usage records.

Creates a dedicated ``bench-statement`` tenant (an earlier one is renamed and
deactivated: the ledger is append-only, so old rows stay) and bulk-inserts one
month of ledger: 47,000 resolutions (72% AI) and 1,500 reopen conversions, each
a reversal plus a human conversion, 50,000 rows in all. Then times what a
merchant's statement costs: building it from the ledger, freezing it, and
exporting every ledger row as CSV."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

RECORDS = 50_000
REOPENS = 1_500
TARGET_SECONDS = 5.0
MONTH = date(2026, 3, 1)


def _seed(tenant) -> None:
    from billing.models import UsageRecord

    contract = tenant.contracts.get()
    rng = random.Random(11)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    resolutions = []
    for _ in range(RECORDS - 2 * REOPENS):
        by_ai = rng.random() < 0.72
        resolutions.append(
            UsageRecord(
                tenant=tenant,
                contract=contract,
                contact_ref=uuid.uuid4(),
                kind="ai_resolution" if by_ai else "human_resolution",
                unit_price=contract.ai_resolution_price
                if by_ai
                else contract.human_resolution_price,
                currency=contract.currency,
                occurred_at=start + timedelta(seconds=rng.uniform(0, 30 * 86400)),
                basis={"resolved_by": "ai" if by_ai else "human", "bench": True},
            )
        )
    created = UsageRecord.objects.bulk_create(resolutions, batch_size=5000)
    reopened = rng.sample([r for r in created if r.kind == "ai_resolution"], REOPENS)
    corrections = []
    for original in reopened:
        common = {
            "tenant": tenant,
            "contract": contract,
            "contact_ref": original.contact_ref,
            "currency": original.currency,
            "occurred_at": original.occurred_at,
            "corrects": original,
            "basis": {"reason": "reopened_within_window", "bench": True},
        }
        corrections.append(
            UsageRecord(kind="ai_reversal", unit_price=-original.unit_price, **common)
        )
        corrections.append(
            UsageRecord(
                kind="human_conversion", unit_price=contract.human_resolution_price, **common
            )
        )
    UsageRecord.objects.bulk_create(corrections, batch_size=5000)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from django.template.loader import render_to_string

    from billing import statements
    from billing.actions import freeze_statement
    from billing.models import UsageRecord
    from tenants.models import Tenant
    from tests.factories import make_tenant

    Tenant.objects.filter(slug="bench-statement").update(
        slug=f"bench-statement-old-{int(time.time())}", is_active=False
    )
    tenant = make_tenant("bench-statement", name="Bench statement")
    _seed(tenant)
    rows = UsageRecord.objects.filter(tenant=tenant).count()

    def build_and_render():
        data = statements.build_statement(tenant, MONTH)
        context = {
            "tenant": tenant,
            "statement": data,
            "is_current": False,
            "closes_at": statements.closes_at(tenant, MONTH),
            "previous": statements.previous_month(MONTH),
            "next": statements.next_month(MONTH),
        }
        render_to_string("billing/statement.html#statement", context)

    def ledger_export():
        assert sum(1 for _ in statements.ledger_csv_rows(tenant, MONTH)) == rows + 1

    build_and_render()  # warm up
    build = statistics.median(_timed(build_and_render) for _ in range(5))
    export = statistics.median(_timed(ledger_export) for _ in range(3))
    freeze = _timed(lambda: freeze_statement(tenant, MONTH))
    whole = build + freeze + export
    return [
        {
            "metric": f"month statement over {rows:,} usage records: build + freeze + full ledger CSV",
            "value": round(whole, 3),
            "unit": "s",
            "target": TARGET_SECONDS,
            "pass": whole <= TARGET_SECONDS and rows == RECORDS,
        },
        {
            "metric": f"statement build and render from {rows:,} ledger rows (median of 5)",
            "value": round(build * 1000, 1),
            "unit": "ms",
            "target": TARGET_SECONDS * 1000,
            "pass": build <= TARGET_SECONDS,
        },
        {
            "metric": f"ledger CSV export of {rows:,} rows (median of 3)",
            "value": round(export, 3),
            "unit": "s",
            "target": TARGET_SECONDS,
            "pass": export <= TARGET_SECONDS,
        },
    ]
