"""Contract versions by effective date: no overlaps, the price in force at resolution."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing.actions import NoContract, add_contract_version, contract_in_force, record_usage
from billing.models import Contract
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _version(tenant, starts_on, ends_on=None, ai="1.10"):
    return add_contract_version(
        tenant,
        currency="USD",
        ai_resolution_price=Decimal(ai),
        human_resolution_price=Decimal("5.00"),
        starts_on=starts_on,
        ends_on=ends_on,
    )


def test_the_price_in_force_at_the_resolution_time_is_billed():
    tenant = make_tenant()  # 1.40 from 2026-01-01
    _version(tenant, date(2026, 6, 1), ai="0.95")
    before = record_usage(
        tenant, uuid.uuid4(), by_ai=True, occurred_at=datetime(2026, 5, 31, 23, 59, tzinfo=UTC)
    )
    after = record_usage(
        tenant, uuid.uuid4(), by_ai=True, occurred_at=datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    )
    assert (before.unit_price, after.unit_price) == (Decimal("1.40"), Decimal("0.95"))


def test_the_version_is_chosen_by_the_tenants_local_day():
    tenant = make_tenant(time_zone="America/New_York")
    _version(tenant, date(2026, 6, 1), ai="0.95")
    # 02:00 UTC on 1 June is still 31 May in New York.
    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    assert contract_in_force(tenant, at).ai_resolution_price == Decimal("1.40")
    # And the usage record, which reads the version in its own insert, agrees.
    record = record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=at)
    assert (record.unit_price, record.basis["contract_from"]) == (Decimal("1.40"), "2026-01-01")


def test_a_version_that_ended_leaves_no_contract_in_force():
    tenant = make_tenant()
    Contract.objects.filter(tenant=tenant).delete()
    _version(tenant, date(2026, 1, 1), ends_on=date(2026, 1, 31))
    with pytest.raises(NoContract):
        contract_in_force(tenant, datetime(2026, 2, 1, 12, tzinfo=UTC))
    # A resolution then cannot be priced, and says so instead of going unbilled.
    with pytest.raises(NoContract):
        record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    # The last day of the version still is.
    last_day = record_usage(
        tenant, uuid.uuid4(), by_ai=False, occurred_at=datetime(2026, 1, 31, 12, tzinfo=UTC)
    )
    assert last_day.unit_price == Decimal("5.00")


def test_two_versions_starting_the_same_day_are_rejected():
    tenant = make_tenant()
    with pytest.raises(ValidationError, match="already starts"):
        _version(tenant, date(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(
            tenant=tenant,
            ai_resolution_price=1,
            human_resolution_price=5,
            starts_on=date(2026, 1, 1),
        )


def test_an_end_date_running_into_the_next_version_is_rejected():
    tenant = make_tenant()
    _version(tenant, date(2026, 6, 1))
    with pytest.raises(ValidationError, match="Runs into the version starting on 2026-06-01"):
        _version(tenant, date(2026, 3, 1), ends_on=date(2026, 6, 1))
    assert _version(tenant, date(2026, 3, 1), ends_on=date(2026, 5, 31)).pk


def test_a_version_starting_inside_an_ended_version_is_rejected():
    tenant = make_tenant()
    Contract.objects.filter(tenant=tenant).delete()
    _version(tenant, date(2026, 1, 1), ends_on=date(2026, 3, 31))
    with pytest.raises(ValidationError, match="runs until 2026-03-31"):
        _version(tenant, date(2026, 3, 15))


def test_versions_of_other_tenants_do_not_conflict():
    make_tenant()
    assert _version(make_tenant(), date(2026, 2, 1)).pk


def test_a_contract_cannot_end_before_it_starts():
    tenant = make_tenant()
    with pytest.raises(ValidationError, match="end before it starts"):
        _version(tenant, date(2026, 5, 1), ends_on=date(2026, 4, 1))
