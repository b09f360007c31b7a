"""Indexes the SLA boards read through, built without locking the contact table.

Both are covering partial indexes, so a board's percentiles over a tenant's
resolved contacts (or executed refunds) come from index-only scans. They are
plain SQL rather than model Meta indexes because INCLUDE columns and
CONCURRENTLY have no model-level spelling that works on a live table."""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("desk", "0004_sla_clocks_breaches_alerts_csat")]

    operations = [
        migrations.RunSQL(
            sql="""
            CREATE INDEX CONCURRENTLY IF NOT EXISTS desk_contact_board_resolved
            ON desk_contact (tenant_id, resolved_at)
            INCLUDE (created_at, resolution, intent, claimed_at, escalated_at)
            WHERE resolved_at IS NOT NULL
            """,
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS desk_contact_board_resolved",
        ),
        migrations.RunSQL(
            sql="""
            CREATE INDEX CONCURRENTLY IF NOT EXISTS desk_proposal_board_refunds
            ON desk_proposal (tenant_id, executed_at) INCLUDE (contact_id)
            WHERE kind = 'refund' AND status = 'executed'
            """,
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS desk_proposal_board_refunds",
        ),
    ]
