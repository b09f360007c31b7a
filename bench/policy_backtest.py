"""A 30-day backtest over 50,000 return cases, end to end (target: under 2 minutes).

Creates a `bench-backtest-30d` tenant once (orders, lines, delivered shipments and
return contacts generated inside PostgreSQL), publishes the 62-rule apparel
policy, drafts a stricter variant, and runs the backtest the way the Celery
task does, reading every case and line from the database."""

from __future__ import annotations

import os
import time
from pathlib import Path

CASES = int(os.environ.get("BENCH_BACKTEST_CASES", "50000"))
POLICY = (
    Path(__file__).resolve().parent.parent / "agents" / "policy" / "demo" / "northwind-apparel.yaml"
)

ORDERS_SQL = """
INSERT INTO integrations_order (public_id, tenant_id, external_id, number, email, currency, subtotal,
    shipping_total, tax_total, total, financial_status, fulfillment_status, sales_channel, shipping_address,
    placed_at, raw, created_at, updated_at)
SELECT gen_random_uuid(), %(tenant)s, '', 'BT' || g, 'bt' || g || '@example.com', 'USD', 20 + g %% 300, 0, 0,
    20 + g %% 300, 'paid', 'fulfilled', (ARRAY['online_store','online_store','amazon'])[1 + g %% 3],
    jsonb_build_object('country', (ARRAY['US','US','CA','GB'])[1 + g %% 4]),
    now() - (g %% 25 + 5) * interval '1 day', '{}'::jsonb, now(), now()
FROM generate_series(1, %(cases)s) g
"""
LINES_SQL = """
INSERT INTO integrations_orderline (order_id, sku, title, product_type, quantity, unit_price, is_final_sale)
SELECT id, (ARRAY['NW-PARKA-M','NW-BOOT-10','NW-FLEECE-L','NW-SOCK-3P','NW-TENT-2','NW-BEANIE'])[1 + id %% 6],
    'Item', (ARRAY['outerwear','footwear','tops','accessories','gear','accessories'])[1 + id %% 6], 1, total,
    id %% 23 = 0
FROM integrations_order WHERE tenant_id = %(tenant)s
"""
SHIPMENTS_SQL = """
INSERT INTO integrations_shipment (public_id, tenant_id, order_id, carrier, tracking_number, status, substatus,
    shipped_at, delivered_at, last_event_at, created_at)
SELECT gen_random_uuid(), %(tenant)s, id, 'ups', '1ZBT' || id, 'delivered', '', placed_at + interval '1 day',
    placed_at + interval '3 days', placed_at + interval '3 days', now()
FROM integrations_order WHERE tenant_id = %(tenant)s
"""
CONTACTS_SQL = """
INSERT INTO desk_contact (public_id, tenant_id, channel, customer_email, customer_name, order_id, order_number_given,
    subject, status, intent, language, escalation_reason, resolution, risk_flags, created_at, updated_at)
SELECT gen_random_uuid(), %(tenant)s, 'email', email, '', id, number, 'Return', 'resolved', 'return_request',
    'en', '', 'ai', '[]'::jsonb, placed_at + (id %% 4 + 1) * interval '1 day', now()
FROM integrations_order WHERE tenant_id = %(tenant)s
"""


def run() -> list[dict]:
    from bench._django import setup

    setup()
    import yaml
    from django.db import connection, transaction

    from agents.policy import backtest
    from agents.policy.actions import create_draft, import_policy
    from desk.models import Contact
    from tenants.actor import Actor
    from tenants.models import Tenant
    from tests.factories import make_tenant

    tenant = Tenant.objects.filter(slug="bench-backtest-30d").first()
    if tenant is None:
        tenant = make_tenant(
            "bench-backtest-30d", name="Bench backtest", time_zone="America/New_York"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in (ORDERS_SQL, LINES_SQL, SHIPMENTS_SQL, CONTACTS_SQL):
                cursor.execute(sql, {"tenant": tenant.pk, "cases": CASES})
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE desk_contact; ANALYZE integrations_order; ANALYZE integrations_orderline"
            )
        import_policy(tenant, POLICY.read_text(), Actor.system(), publish=True)
    document = yaml.safe_load(POLICY.read_text())
    document["rules"] = document["rules"][1:]  # the draft drops the first rule
    draft = create_draft(tenant, document, Actor.system(), note="bench")
    in_window = Contact.objects.filter(tenant=tenant, intent="return_request").count()
    run = backtest.start(draft, days=30)
    started = time.monotonic()
    done = backtest.execute(run.pk)
    seconds = time.monotonic() - started
    cases = done.result["cases"]
    return [
        {
            "metric": f"30-day backtest, 62-rule policy ({cases:,} cases in window of {in_window:,})",
            "value": round(seconds, 1),
            "unit": "s",
            "target": "< 120 s",
            "pass": seconds < 120,
        },
        {
            "metric": "backtest throughput",
            "value": round(cases / seconds),
            "unit": "cases/s",
            "target": "—",
            "pass": True,
        },
    ]
