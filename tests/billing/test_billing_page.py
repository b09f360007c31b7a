"""The tenant billing page: counts at contract prices and deflection vs floor."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.actions import record_usage
from billing.models import UsageRecord
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


def _page(tenant):
    return reverse("billing:page", kwargs={"slug": tenant.slug})


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.LEAD, 200),
        (Role.ACCOUNT_MANAGER, 200),
        (Role.MERCHANT_ADMIN, 200),
        (Role.SPECIALIST, 403),
    ],
)
def test_billing_page_checks_the_role(client, role, expected):
    tenant = make_tenant()
    client.force_login(make_member(tenant, role))
    assert client.get(_page(tenant)).status_code == expected


def test_billing_page_of_another_tenant_is_404(client):
    tenant = make_tenant()
    client.force_login(make_member(make_tenant(), Role.ACCOUNT_MANAGER))
    assert client.get(_page(tenant)).status_code == 404


def test_billing_page_counts_resolutions_at_contract_prices_against_the_floor(client):
    tenant = make_tenant()
    now = timezone.now()
    for _ in range(3):
        record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=now)
    record_usage(tenant, uuid.uuid4(), by_ai=False, occurred_at=now)
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    html = client.get(_page(tenant)).content.decode()

    assert '<b id="ai-count">3</b>' in html
    assert '<b id="human-count">1</b>' in html
    assert "4.20 USD" in html  # 3 × 1.40
    assert '<b id="total-amount">9.40 USD</b>' in html  # 4.20 + 5.20
    assert '<b id="deflection">75%</b>' in html
    assert "floor 70% · meets floor" in html


def test_billing_page_flags_deflection_below_the_floor(client):
    tenant = make_tenant()
    now = timezone.now()
    record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=now)
    record_usage(tenant, uuid.uuid4(), by_ai=False, occurred_at=now)
    client.force_login(make_member(tenant, Role.LEAD))
    html = client.get(_page(tenant)).content.decode()
    assert "below floor" in html


def test_usage_is_recorded_once_per_resolution():
    tenant = make_tenant()
    ref = uuid.uuid4()
    assert record_usage(tenant, ref, by_ai=True, occurred_at=timezone.now()) is not None
    assert record_usage(tenant, ref, by_ai=True, occurred_at=timezone.now()) is None
    assert UsageRecord.objects.filter(contact_ref=ref).count() == 1


def test_usage_records_are_append_only():
    tenant = make_tenant()
    record = record_usage(tenant, uuid.uuid4(), by_ai=True, occurred_at=timezone.now())
    record.unit_price = 0
    with pytest.raises(ValueError, match="append-only"):
        record.save()
