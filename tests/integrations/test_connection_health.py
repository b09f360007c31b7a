"""Each connection's API health on the connections page: the last call that worked,
how many failed in the last day, and whether the provider is throttling us."""

from __future__ import annotations

import httpx
import pytest
import respx
from django.urls import reverse

from integrations import health
from integrations.carriers import polling
from integrations.models import Connection
from tenants.roles import Role
from tests.factories import log_in, make_member, make_tenant
from tests.integrations.carriers.test_polling import (
    NOW,
    UPS_TRACK_URL,
    _connect,
    _mock_ups,
    _shipment,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule():
    s = polling.Schedule(name="test-health-poll")
    s.clear()
    yield s
    s.clear()


@respx.mock
def test_carrier_polls_count_answers_and_throttling_per_connection(schedule):
    tenant = make_tenant()
    ups = _connect(tenant)
    health.forget(ups.pk)
    _shipment(tenant)
    _mock_ups()

    polling.refresh_due(schedule=schedule, now=NOW)

    first = health.read([ups.pk])[ups.pk]
    assert (first.calls, first.errors, first.failing) == (1, 0, False)
    assert first.last_ok_at is not None

    respx.get(UPS_TRACK_URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    schedule.clear()
    polling.refresh_due(schedule=schedule, now=NOW)

    throttled = health.read([ups.pk])[ups.pk]
    assert (throttled.calls, throttled.errors) == (2, 1)
    assert throttled.failing and throttled.last_error_temporary
    assert "429" in throttled.last_error
    assert throttled.error_rate == 0.5


def test_the_connections_page_shows_each_connections_calls(client):
    tenant = make_tenant()
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    shop = Connection.objects.create(
        tenant=tenant, provider="shopify", kind="commerce", name="Main store", credentials={}
    )
    idle = Connection.objects.create(
        tenant=tenant, provider="klaviyo", kind="cx", name="Flows", credentials={}
    )
    health.forget(shop.pk)
    health.forget(idle.pk)
    health.record(shop.pk, ok=True)
    health.record(shop.pk, ok=False, message="Shopify answered 503", temporary=True)

    page = client.get(reverse("connections:page", kwargs={"slug": tenant.slug}))

    body = page.content.decode()
    assert "1 of 2 failed (50%)" in body
    assert "throttled or unavailable, retrying: Shopify answered 503" in body
    assert "no calls" in body  # the Klaviyo connection has made none
    assert idle.pk not in health.read([idle.pk])


def test_a_failed_connection_test_counts_as_a_failed_call():
    from integrations import connection_checks

    tenant = make_tenant()
    twilio = Connection.objects.create(
        tenant=tenant, provider="twilio", kind="messaging", name="SMS", credentials={}
    )
    health.forget(twilio.pk)
    result = connection_checks.check(twilio)

    assert not result.ok
    seen = health.read([twilio.pk])[twilio.pk]
    assert seen.failing and seen.errors == 1
