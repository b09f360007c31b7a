"""The usage ledger is append-only in the database, not only in the model."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from billing.actions import record_usage
from billing.models import UsageRecord
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def record():
    return record_usage(make_tenant(), uuid.uuid4(), by_ai=True, occurred_at=timezone.now())


def test_raw_sql_update_of_a_usage_record_is_rejected(record):
    with (
        pytest.raises(DatabaseError, match="append-only: UPDATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE billing_usagerecord SET unit_price = 0 WHERE id = %s", [record.pk])
    record.refresh_from_db()
    assert record.unit_price == Decimal("1.40")


def test_raw_sql_delete_of_a_usage_record_is_rejected(record):
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM billing_usagerecord WHERE id = %s", [record.pk])
    assert UsageRecord.objects.filter(pk=record.pk).exists()


def test_queryset_update_and_delete_are_rejected(record):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        UsageRecord.objects.filter(pk=record.pk).update(kind=UsageRecord.Kind.HUMAN_RESOLUTION)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        UsageRecord.objects.filter(pk=record.pk).delete()
    assert UsageRecord.objects.get(pk=record.pk).kind == UsageRecord.Kind.AI_RESOLUTION


def test_inserting_rows_is_still_allowed(record):
    second = record_usage(record.tenant, uuid.uuid4(), by_ai=False, occurred_at=timezone.now())
    assert UsageRecord.objects.filter(tenant=record.tenant).count() == 2
    assert second.kind == UsageRecord.Kind.HUMAN_RESOLUTION
