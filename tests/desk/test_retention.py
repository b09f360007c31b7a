"""Retention: past each merchant's window, personal data of resolved contacts is
anonymised and raw webhook payloads and agent traces are blanked; inside it,
nothing moves; other merchants keep theirs; a second pass changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from agents.models import AgentRun, ToolCall
from agents.retention import apply_retention
from billing.actions import record_usage
from billing.models import UsageRecord
from desk.models import Contact, Message
from desk.privacy import ERASED
from desk.settings import CELERY_BEAT_SCHEDULE
from integrations.models import Connection, WebhookEvent
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.factories import make_contact, make_member, make_tenant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 1, 3, 40, tzinfo=UTC)


def _resolved(tenant, days_ago: int, email: str = "jane@example.com") -> Contact:
    contact = make_contact(tenant, customer_email=email, customer_name="Jane Doe", body="My parcel")
    Contact.objects.filter(pk=contact.pk).update(
        status=Contact.Status.RESOLVED,
        resolution=Contact.Resolution.AI,
        resolved_at=NOW - timedelta(days=days_ago),
    )
    contact.refresh_from_db()
    return contact


def _delivery(tenant, days_ago: int) -> WebhookEvent:
    connection = Connection.objects.create(
        tenant=tenant, provider="shopify", kind="commerce", name="store"
    )
    return WebhookEvent.objects.create(
        connection=connection,
        provider="shopify",
        delivery_id=f"d-{days_ago}-{connection.pk}",
        topic="orders/updated",
        headers={"X-Shopify-Shop-Domain": "shop.example"},
        body='{"email": "jane@example.com"}',
        status=WebhookEvent.Status.PROCESSED,
        received_at=NOW - timedelta(days=days_ago),
    )


def _run(tenant, days_ago: int) -> AgentRun:
    run = AgentRun.objects.create(
        tenant=tenant,
        contact=make_contact(tenant),
        planner="embedded",
        outcome=AgentRun.Outcome.RESOLVED,
        steps=[{"tool": "lookup_order", "said": "Jane's order"}],
        prompt_tokens=120,
        started_at=NOW - timedelta(days=days_ago),
    )
    ToolCall.objects.create(
        agent_run=run,
        name="lookup_order",
        arguments={"email": "jane@example.com"},
        result={"number": "1042"},
        latency_ms=12.5,
        tokens=40,
    )
    return run


def test_resolved_contacts_past_the_window_are_anonymised_and_recent_ones_kept():
    tenant = make_tenant()  # 365 days by default
    old = _resolved(tenant, days_ago=400, email="old@example.com")
    recent = _resolved(tenant, days_ago=300, email="recent@example.com")

    totals = apply_retention(now=NOW)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert totals["contacts"] == 1
    assert old.customer_email.startswith("erased-") and old.customer_email.endswith("@invalid")
    assert (old.customer_name, old.subject) == ("", ERASED)
    assert Message.objects.get(contact=old).body == ERASED
    assert old.status == Contact.Status.RESOLVED  # the case itself stays
    assert recent.customer_email == "recent@example.com"
    assert Message.objects.get(contact=recent).body == "My parcel"


def test_open_cases_are_never_erased_however_old():
    tenant = make_tenant()
    open_case = make_contact(tenant, customer_email="jane@example.com")
    Contact.objects.filter(pk=open_case.pk).update(created_at=NOW - timedelta(days=1000))

    apply_retention(now=NOW)

    open_case.refresh_from_db()
    assert open_case.customer_email == "jane@example.com"


def test_a_customers_newer_contact_survives_the_erasure_of_an_old_one():
    tenant = make_tenant()
    old = _resolved(tenant, days_ago=400)
    newer = _resolved(tenant, days_ago=10)

    apply_retention(now=NOW)

    old.refresh_from_db()
    newer.refresh_from_db()
    assert old.customer_email != "jane@example.com"
    assert newer.customer_email == "jane@example.com"


def test_each_merchant_keeps_data_for_its_own_window_only():
    strict = make_tenant(personal_data_retention_days=30)
    relaxed = make_tenant()
    strict_case = _resolved(strict, days_ago=45)
    relaxed_case = _resolved(relaxed, days_ago=45)

    apply_retention(now=NOW)

    strict_case.refresh_from_db()
    relaxed_case.refresh_from_db()
    assert strict_case.personal_data_erased_at is not None
    assert relaxed_case.customer_email == "jane@example.com"
    assert relaxed_case.personal_data_erased_at is None


def test_webhook_payloads_past_the_window_are_blanked_and_the_delivery_kept():
    tenant = make_tenant()
    other = make_tenant(webhook_payload_retention_days=365)
    old, recent, foreign = _delivery(tenant, 91), _delivery(tenant, 89), _delivery(other, 91)

    apply_retention(now=NOW)

    for event in (old, recent, foreign):
        event.refresh_from_db()
    assert (old.body, old.headers) == (ERASED, {})
    assert (old.provider, old.topic, old.status) == ("shopify", "orders/updated", "processed")
    assert recent.body == foreign.body == '{"email": "jane@example.com"}'


def test_agent_traces_past_the_window_lose_their_content_not_their_figures():
    tenant = make_tenant()
    old, recent = _run(tenant, 100), _run(tenant, 30)

    apply_retention(now=NOW)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.steps == [] and old.trace_erased_at is not None
    assert (old.planner, old.outcome, old.prompt_tokens) == ("embedded", "resolved", 120)
    call = old.tool_calls.get()
    assert (call.arguments, call.result) == ({}, None)
    assert (call.name, call.tokens, call.latency_ms) == ("lookup_order", 40, 12.5)
    assert recent.steps and recent.tool_calls.get().arguments == {"email": "jane@example.com"}


def test_the_usage_ledger_is_left_alone():
    tenant = make_tenant(personal_data_retention_days=30)
    contact = _resolved(tenant, days_ago=200)  # inside the contract that began in January
    record_usage(tenant, contact.public_id, by_ai=True, occurred_at=contact.resolved_at)
    before = list(UsageRecord.objects.values())

    assert apply_retention(now=NOW)["contacts"] == 1  # its trigger raises on any UPDATE

    assert list(UsageRecord.objects.values()) == before


def test_every_pass_is_audited_and_a_second_pass_changes_nothing():
    tenant = make_tenant()
    _resolved(tenant, days_ago=400)
    _delivery(tenant, 91)
    _run(tenant, 100)

    first = apply_retention(now=NOW)
    snapshot = (
        list(Contact.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        list(WebhookEvent.objects.order_by("pk").values()),
        list(AgentRun.objects.order_by("pk").values()),
    )
    second = apply_retention(now=NOW)

    assert first == {"contacts": 1, "webhooks": 1, "traces": 1}
    assert second == {"contacts": 0, "webhooks": 0, "traces": 0}
    assert snapshot == (
        list(Contact.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        list(WebhookEvent.objects.order_by("pk").values()),
        list(AgentRun.objects.order_by("pk").values()),
    )
    runs = AuditEvent.objects.filter(tenant=tenant, verb="retention.apply").order_by("created_at")
    assert [(e.data["contacts"], e.data["webhooks"], e.data["traces"]) for e in runs] == [
        (1, 1, 1),
        (0, 0, 0),
    ]
    assert runs[0].actor_label == "retention"


def test_the_nightly_task_uses_the_real_clock():
    tenant = make_tenant()
    with time_machine.travel(datetime(2025, 1, 10, tzinfo=UTC), tick=False):
        contact = make_contact(tenant, customer_email="jane@example.com")
        Contact.objects.filter(pk=contact.pk).update(
            status=Contact.Status.RESOLVED, resolved_at=datetime(2025, 1, 10, tzinfo=UTC)
        )
    from agents.tasks import apply_retention as task

    with time_machine.travel(datetime(2026, 1, 9, tzinfo=UTC), tick=False):
        assert task()["contacts"] == 0  # day 364
    with time_machine.travel(datetime(2026, 1, 11, tzinfo=UTC), tick=False):
        assert task()["contacts"] == 1  # day 366


def test_retention_runs_daily_on_beat():
    entry = CELERY_BEAT_SCHEDULE["apply-retention"]
    assert entry["task"] == "agents.apply_retention"
    assert entry["schedule"].remaining_estimate(NOW) <= timedelta(days=1)
    assert entry["schedule"].hour == {3}


# --- the settings page ------------------------------------------------------------


def _settings(tenant):
    return reverse("tenants:settings", kwargs={"slug": tenant.slug})


def _retention_post(days: int) -> dict:
    return {
        "retention-personal_data_retention_days": days,
        "retention-webhook_payload_retention_days": 60,
        "retention-agent_trace_retention_days": 45,
        "save-retention": "",
    }


def test_an_account_manager_sets_retention_and_it_is_audited(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))
    assert b"Data retention" in client.get(_settings(tenant)).content

    response = client.post(_settings(tenant), _retention_post(180))

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (
        tenant.personal_data_retention_days,
        tenant.webhook_payload_retention_days,
        tenant.agent_trace_retention_days,
    ) == (180, 60, 45)
    event = AuditEvent.objects.get(tenant=tenant, verb="tenant.retention")
    assert event.data["before"]["personal_data_retention_days"] == 365
    assert tenant.autonomy_confirmed_at is None  # the autonomy form was not submitted


def test_personal_data_is_kept_at_least_thirty_days(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.ACCOUNT_MANAGER))

    response = client.post(_settings(tenant), _retention_post(29))

    assert response.status_code == 200
    assert b"greater than or equal to 30" in response.content
    tenant.refresh_from_db()
    assert tenant.personal_data_retention_days == 365


def test_a_lead_cannot_change_retention(client):
    tenant = make_tenant()
    client.force_login(make_member(tenant, Role.LEAD))
    assert client.post(_settings(tenant), _retention_post(30)).status_code == 403
    tenant.refresh_from_db()
    assert tenant.personal_data_retention_days == 365
