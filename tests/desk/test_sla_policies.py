"""The SLA policy editor: leads and account managers set each priority's targets,
business hours and holidays; every save is audited with before and after."""

from __future__ import annotations

import pytest
from django.urls import reverse

from desk import sla
from desk.models import Priority, SlaClock, SlaPolicy
from tenants import onboarding
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return make_tenant(time_zone="Europe/Berlin")


def _url(tenant) -> str:
    return reverse("desk:sla", kwargs={"slug": tenant.slug})


def _post(priority: str, **overrides) -> dict:
    data = {
        "first_response_minutes": "30",
        "resolution_minutes": "480",
        "decision_minutes": "120",
        "carrier_response_minutes": "240",
        "hours_0": "08:00-12:00, 13:00-18:00",
        "hours_1": "08:00-18:00",
        "hours_5": "10:00-14:00",
        "holidays": "2026-12-25\n2026-12-24",
        **overrides,
    }
    return {"priority": priority, **{f"{priority}-{k}": v for k, v in data.items()}}


def test_lead_saves_high_priority_targets_and_the_audit_keeps_before_and_after(client, tenant):
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.post(_url(tenant), _post(Priority.HIGH))
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(tenant=tenant, priority=Priority.HIGH)
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, 480)
    assert policy.business_hours == {
        "0": [["08:00", "12:00"], ["13:00", "18:00"]],
        "1": [["08:00", "18:00"]],
        "5": [["10:00", "14:00"]],
    }
    assert policy.holidays == ["2026-12-24", "2026-12-25"]
    client.post(_url(tenant), _post(Priority.HIGH, resolution_minutes="600"))
    first, second = AuditEvent.objects.filter(tenant=tenant, verb="sla_policy.save").order_by("pk")
    assert first.data["before"] is None and first.data["after"]["resolution_minutes"] == 480
    assert second.data["before"]["resolution_minutes"] == 480
    assert second.data["after"]["resolution_minutes"] == 600


def test_page_shows_every_priority_and_says_changes_apply_to_new_clocks(client, tenant):
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    body = client.get(_url(tenant)).content.decode()
    for priority in Priority.values:
        assert f'id="sla-{priority}"' in body
    assert "applies to clocks started after you save" in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_response_minutes", "0", "greater than or equal to 1"),
        ("hours_2", "9-17", "not a time of day"),
        ("hours_2", "17:00-09:00", "ends before it starts"),
        ("hours_2", "09:00-13:00, 12:00-17:00", "must not overlap"),
        ("hours_2", "09:00-24:30", "not a time of day"),
        ("holidays", "25/12/2026", "not a date"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_saved(client, tenant, field, value, message):
    client.force_login(make_member(tenant, Role.LEAD))
    response = client.post(_url(tenant), _post(Priority.NORMAL, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SlaPolicy.objects.filter(tenant=tenant).exists()


def test_no_open_hours_at_all_needs_around_the_clock(client, tenant):
    client.force_login(make_member(tenant, Role.LEAD))
    closed = {f"hours_{d}": "" for d in range(7)}
    response = client.post(_url(tenant), _post(Priority.NORMAL, **closed))
    assert "at least one day" in response.content.decode()
    client.post(_url(tenant), _post(Priority.NORMAL, around_the_clock="on", **closed))
    assert SlaPolicy.objects.get(tenant=tenant).business_hours == {}


def test_go_live_step_is_done_once_targets_are_set(client, tenant):
    def step_done() -> bool:
        return next(s.done for s in onboarding.checklist(tenant) if s.step.key == "sla")

    assert not step_done()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    client.post(_url(tenant), _post(Priority.NORMAL))
    assert step_done()


def test_new_targets_apply_to_clocks_started_afterwards(client, tenant):
    before = make_contact(tenant)
    sla.open_clocks(before, {SlaClock.Target.RESOLUTION: before.created_at})
    client.force_login(make_member(tenant, Role.LEAD))
    client.post(_url(tenant), _post(Priority.NORMAL, resolution_minutes="90"))
    after = make_contact(tenant)
    sla.open_clocks(after, {SlaClock.Target.RESOLUTION: after.created_at})
    assert before.sla_clocks.get().budget_seconds == 24 * 3600
    assert after.sla_clocks.get().budget_seconds == 90 * 60
