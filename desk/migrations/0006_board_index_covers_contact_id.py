"""The boards' contact index also carries the contact id, so the join to a
contact's first-response clock stays an index-only scan (0005's index made
every row a heap visit)."""

from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("desk", "0005_board_indexes")]

    operations = [
        migrations.RunSQL(
            sql="""
            CREATE INDEX CONCURRENTLY IF NOT EXISTS desk_contact_board
            ON desk_contact (tenant_id, resolved_at)
            INCLUDE (id, created_at, resolution, intent, claimed_at, escalated_at)
            WHERE resolved_at IS NOT NULL
            """,
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS desk_contact_board",
        ),
        migrations.RunSQL(
            sql="DROP INDEX CONCURRENTLY IF EXISTS desk_contact_board_resolved",
            reverse_sql="""
            CREATE INDEX CONCURRENTLY IF NOT EXISTS desk_contact_board_resolved
            ON desk_contact (tenant_id, resolved_at)
            INCLUDE (created_at, resolution, intent, claimed_at, escalated_at)
            WHERE resolved_at IS NOT NULL
            """,
        ),
    ]
