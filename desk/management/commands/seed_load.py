"""Realistic volume for benchmarks: N tenants × M contacts, with open escalations.

Rows are generated inside PostgreSQL (INSERT … SELECT generate_series), so a
million contacts take minutes, not hours. Idempotent per tenant: a tenant that
already has its contacts is left alone. Every contact has its customer message
and its proposal; the open escalations also have an order with a line, a
shipment and a tracking timeline, like the decision packet shows."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from billing.models import Contract
from desk.models import Contact
from tenants.models import Membership, Tenant, User
from tenants.roles import Role

LOAD_PASSWORD = "load-test-2026"  # noqa: S105 - a benchmark login, printed on purpose

CONTACTS_SQL = """
INSERT INTO desk_contact (public_id, tenant_id, channel, customer_email, customer_name, order_number_given,
    subject, status, intent, language, escalation_reason, resolution, risk_flags, escalated_at, sla_due_at,
    resolved_at, created_at, updated_at, search_vector)
SELECT gen_random_uuid(), %(tenant)s, (ARRAY['email','chat','form','whatsapp'])[1 + g %% 4],
    'customer' || g || '@load.example', 'Customer ' || g, 'L' || g,
    (ARRAY['Where is my order','Refund please','Wrong size, want to return','Parcel stuck','Cancel my order'])[1 + g %% 5]
        || ' #L' || g,
    CASE WHEN g <= %(open)s THEN 'escalated' ELSE 'resolved' END,
    (ARRAY['wismo','refund_request','return_request','delivery_exception','cancel_order'])[1 + g %% 5],
    'en', CASE WHEN g <= %(open)s THEN 'Refund above the auto-refund limit' ELSE '' END,
    CASE WHEN g <= %(open)s THEN '' WHEN g %% 4 = 0 THEN 'human' ELSE 'ai' END,
    CASE WHEN g <= %(open)s AND g %% 17 = 0 THEN '["refund_velocity"]'::jsonb ELSE '[]'::jsonb END,
    CASE WHEN g <= %(open)s THEN now() - (g %% 600) * interval '1 minute' END,
    CASE WHEN g <= %(open)s THEN now() + ((g * 7919) %% 480 - 120) * interval '1 minute' END,
    CASE WHEN g > %(open)s THEN now() - (g %% 43200) * interval '1 minute' END,
    now() - (g %% 43200) * interval '1 minute' - interval '10 minutes', now(),
    to_tsvector('simple', 'customer' || g || '@load.example customer' || g || ' Customer ' || g || ' L' || g)
FROM generate_series(1, %(count)s) g
"""

MESSAGES_SQL = """
INSERT INTO desk_message (contact_id, direction, author_type, body, raw, created_at)
SELECT id, 'inbound', 'customer', subject || '. Please help, it has been days.', '{}'::jsonb, created_at
FROM desk_contact WHERE tenant_id = %(tenant)s
"""

PROPOSALS_SQL = """
INSERT INTO desk_proposal (public_id, tenant_id, contact_id, kind, status, amount, currency, parameters,
    reply_draft, confidence, rationale, evidence, guardrails, execution_result, created_at, executed_at)
SELECT gen_random_uuid(), tenant_id, id,
    CASE WHEN status = 'escalated' THEN 'refund' ELSE 'reply' END,
    CASE WHEN status = 'escalated' THEN 'proposed' ELSE 'executed' END,
    CASE WHEN status = 'escalated' THEN 200 + (id %% 300) END, 'USD',
    '{"amount_source": "order.refundable_remainder"}'::jsonb,
    'Hi, we have looked into your order.', 0.9, 'Load-test proposal', '{}'::jsonb,
    CASE WHEN status = 'escalated'
        THEN '[{"name": "within_auto_limit", "passed": false, "detail": "Refund above the auto-refund limit"}]'::jsonb
        ELSE '[]'::jsonb END,
    '{}'::jsonb, created_at, resolved_at
FROM desk_contact WHERE tenant_id = %(tenant)s
"""

ORDERS_SQL = """
WITH open AS (
    SELECT id, created_at FROM desk_contact WHERE tenant_id = %(tenant)s AND status = 'escalated'
), orders AS (
    INSERT INTO integrations_order (public_id, tenant_id, external_id, number, email, currency, subtotal,
        shipping_total, tax_total, total, financial_status, fulfillment_status, sales_channel,
        shipping_address, placed_at, raw, created_at, updated_at)
    SELECT gen_random_uuid(), %(tenant)s, '', 'L' || id, 'load@example.com', 'USD', 200 + (id %% 300), 0, 0,
        200 + (id %% 300), 'paid', 'fulfilled', 'online_store', '{}'::jsonb, created_at - interval '6 days',
        '{}'::jsonb, now(), now()
    FROM open RETURNING id, number
)
UPDATE desk_contact c SET order_id = orders.id FROM orders
WHERE c.tenant_id = %(tenant)s AND orders.number = 'L' || c.id
"""

LINES_SQL = """
INSERT INTO integrations_orderline (order_id, sku, title, product_type, quantity, unit_price, is_final_sale)
SELECT id, 'SKU-' || (id %% 40), 'Item ' || (id %% 40), 'apparel', 1, total, false
FROM integrations_order WHERE tenant_id = %(tenant)s AND number LIKE 'L%%'
"""

SHIPMENTS_SQL = """
INSERT INTO integrations_shipment (public_id, tenant_id, order_id, carrier, tracking_number, status, substatus,
    shipped_at, last_event_at, created_at)
SELECT gen_random_uuid(), %(tenant)s, id, 'ups', '1ZLOAD' || %(tenant)s || 'X' || id, 'delivered', '',
    placed_at + interval '1 day', placed_at + interval '4 days', now()
FROM integrations_order WHERE tenant_id = %(tenant)s AND number LIKE 'L%%'
"""

EVENTS_SQL = """
INSERT INTO integrations_trackingevent (shipment_id, occurred_at, status, substatus, carrier_code, description,
    city, region, country, raw, created_at)
SELECT s.id, s.shipped_at + step * interval '18 hours',
    (ARRAY['info_received','in_transit','in_transit','out_for_delivery','delivered'])[step + 1], '',
    'C' || step, (ARRAY['Label created','Picked up','Arrived at facility','Out for delivery','Delivered'])[step + 1],
    'Louisville', 'KY', 'US', '{}'::jsonb, now()
FROM integrations_shipment s CROSS JOIN generate_series(0, 4) step
WHERE s.tenant_id = %(tenant)s
"""


class Command(BaseCommand):
    help = "Create realistic volume for benchmarks (tenants load-01…, contacts, escalations)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenants", type=int, default=20)
        parser.add_argument("--contacts-per-tenant", type=int, default=50_000)
        parser.add_argument(
            "--open-escalations", type=int, default=10_000, help="In total, across tenants."
        )

    def handle(
        self, *args, tenants: int, contacts_per_tenant: int, open_escalations: int, **options
    ) -> None:
        started = time.monotonic()
        open_per_tenant = max(1, open_escalations // tenants)
        user = User.objects.filter(
            email="load-specialist@example.com"
        ).first() or User.objects.create_user(
            "load-specialist@example.com", LOAD_PASSWORD, first_name="Load"
        )
        for index in range(1, tenants + 1):
            slug = f"load-{index:02d}"
            tenant, created = Tenant.objects.get_or_create(
                slug=slug, defaults={"name": f"Load merchant {index:02d}", "currency": "USD"}
            )
            if created:
                Contract.objects.create(
                    tenant=tenant,
                    currency="USD",
                    ai_resolution_price=Decimal("1.40"),
                    human_resolution_price=Decimal("5.20"),
                    starts_on=date(2026, 1, 1),
                )
            Membership.objects.get_or_create(
                user=user, tenant=tenant, defaults={"role": Role.SPECIALIST}
            )
            if Contact.objects.filter(tenant=tenant).exists():
                self.stdout.write(f"{slug}: already loaded")
                continue
            params = {"tenant": tenant.pk, "count": contacts_per_tenant, "open": open_per_tenant}
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in (
                    CONTACTS_SQL,
                    MESSAGES_SQL,
                    PROPOSALS_SQL,
                    ORDERS_SQL,
                    LINES_SQL,
                    SHIPMENTS_SQL,
                    EVENTS_SQL,
                ):
                    cursor.execute(sql, params)
            self.stdout.write(
                f"{slug}: {contacts_per_tenant} contacts, {open_per_tenant} open ({time.monotonic() - started:.0f} s)"
            )
        with connection.cursor() as cursor:
            # Fresh statistics and visibility map: the planner then uses
            # index-only scans for the inbox's counters.
            cursor.execute("VACUUM ANALYZE desk_contact")
            cursor.execute("VACUUM ANALYZE desk_proposal")
            cursor.execute("VACUUM ANALYZE desk_message")
        self.stdout.write(
            f"Done in {time.monotonic() - started:.0f} s. Log in as load-specialist@example.com / {LOAD_PASSWORD}"
        )
