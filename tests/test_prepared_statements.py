"""Statements the desk repeats are prepared once per connection, and the ones
written by hand survive a column added while a worker holds them prepared."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from billing.actions import record_usage
from integrations.messaging import actions
from integrations.messaging.actions import Draft
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _prepared_in_this_session() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _add_a_column(table: str) -> None:
    """A migration adding a column while a worker's connection holds its statements
    prepared. Sent below the driver, which would otherwise forget its own prepared
    statements on seeing an ALTER, as it cannot when another process migrates. It
    is rolled back with the test's transaction."""
    pgconn = connection.connection.pgconn
    for sql in (
        "SET CONSTRAINTS ALL IMMEDIATE",  # the deferred checks of the rows just written
        f"ALTER TABLE {table} ADD COLUMN added_by_a_migration integer",
    ):
        result = pgconn.exec_(sql.encode())
        assert result.error_message == b"", result.error_message


def test_a_statement_run_again_on_a_connection_is_planned_by_postgresql_once():
    tenant = make_tenant()
    for _ in range(3):
        type(tenant).objects.filter(pk=tenant.pk).values_list("slug", flat=True).get()
    assert any('"tenants_tenant"."slug"' in text for text in _prepared_in_this_session())


def test_claiming_a_message_still_works_after_its_table_gains_a_column(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant = make_tenant()

    def queue(key: str) -> int:
        draft = Draft(channel="email", to="ada@example.com", body="On its way", idempotency_key=key)
        message, _ = actions.queue_message(tenant, draft, enqueue=False)
        return message.pk

    for key in ("k-1", "k-2", "k-3"):
        assert actions.send_now(queue(key)) == "sent"
    _add_a_column("integrations_outboundmessage")
    assert actions.send_now(queue("k-4")) == "sent"


def test_recording_usage_still_works_after_its_table_gains_a_column():
    tenant = make_tenant()
    now = timezone.now()
    for _ in range(3):
        assert record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=now) is not None
    _add_a_column("billing_usagerecord")
    assert record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=now) is not None
