"""Onboarding a merchant: create, connect, price, staff, go live; and the pages around it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tenants.models import ApiKey, AuditEvent, Membership, Tenant, User
from tenants.onboarding import checklist
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = make_member(make_tenant(), Role.ACCOUNT_MANAGER, email="am@example.com")
    client.force_login(user)
    return user


def test_an_account_manager_onboards_a_merchant_to_go_live(client, manager):
    response = client.post(
        reverse("tenants:create"),
        {
            "name": "Acme Apparel",
            "slug": "acme",
            "time_zone": "Europe/Paris",
            "currency": "eur",
            "locale": "fr",
        },
    )
    assert response["Location"] == reverse("tenants:onboarding", kwargs={"slug": "acme"})
    tenant = Tenant.objects.get(slug="acme")
    assert tenant.currency == "EUR"
    assert Membership.objects.get(tenant=tenant, user=manager).role == Role.ACCOUNT_MANAGER

    # Going live too early names what is missing.
    client.post(reverse("tenants:onboarding", kwargs={"slug": "acme"}))
    tenant.refresh_from_db()
    assert tenant.went_live_at is None

    client.post(
        reverse("connections:page", kwargs={"slug": "acme"}),
        {"provider": "sandbox", "name": "Store"},
    )
    client.post(
        reverse("connections:page", kwargs={"slug": "acme"}),
        {"provider": "sandbox_carrier", "name": "Feed"},
    )
    client.post(
        reverse("billing:contracts", kwargs={"slug": "acme"}),
        {
            "currency": "EUR",
            "ai_resolution_price": "1.20",
            "human_resolution_price": "5.00",
            "deflection_floor": "0.700",
            "floor_credit_percent": "10",
            "starts_on": "2026-11-01",
        },
    )
    client.post(
        reverse("tenants:settings", kwargs={"slug": "acme"}),
        {
            "auto_refund_limit": "150",
            "daily_auto_refund_cap": "1500",
            "confidence_threshold": "0.75",
            "specialist_approval_limit": "400",
            "decision_sla_hours": "4",
            "qa_sample_percent": "5",
            "csat_survey_delay_hours": "24",
            "auto_action_kinds": ["reply", "refund"],
        },
    )
    for email, role in (("spec@example.com", "specialist"), ("lead@example.com", "lead")):
        client.post(
            reverse("tenants:members", kwargs={"slug": "acme"}), {"email": email, "role": role}
        )
    client.post(reverse("tenants:api-keys", kwargs={"slug": "acme"}), {"name": "intake"})
    client.post(
        reverse("desk:sla", kwargs={"slug": "acme"}),
        {
            "priority": "normal",
            "normal-first_response_minutes": "60",
            "normal-resolution_minutes": "1440",
            "normal-decision_minutes": "240",
            "normal-carrier_response_minutes": "240",
            "normal-hours_0": "09:00-17:00",
        },
    )
    from agents.policy.actions import create_draft, publish_version
    from tenants.actor import Actor

    draft = create_draft(
        tenant,
        {
            "format": 1,
            "name": "Acme",
            "rules": [{"id": "all", "when": {}, "then": {"outcome": "review"}}],
        },
        Actor.member(manager),
    )
    publish_version(draft, Actor.member(manager))

    tenant.refresh_from_db()
    assert [s.step.key for s in checklist(tenant) if not s.done and not s.step.optional] == []
    client.post(reverse("tenants:onboarding", kwargs={"slug": "acme"}))
    tenant.refresh_from_db()
    assert tenant.went_live_at is not None


def test_inviting_a_new_person_emails_a_link_to_set_a_password(client, manager):
    tenant = manager.memberships.get().tenant
    client.post(
        reverse("tenants:members", kwargs={"slug": tenant.slug}),
        {"email": "New@Example.com", "role": "specialist"},
    )
    invited = User.objects.get(email="new@example.com")
    assert not invited.has_usable_password()
    assert Membership.objects.get(user=invited).role == Role.SPECIALIST
    assert mail.outbox and mail.outbox[-1].to == ["new@example.com"]


def test_an_api_key_is_shown_once_and_can_be_revoked(client, manager):
    tenant = manager.memberships.get().tenant
    response = client.post(
        reverse("tenants:api-keys", kwargs={"slug": tenant.slug}), {"name": "shop"}
    )
    html = response.content.decode()
    key = ApiKey.objects.get(tenant=tenant)
    assert f"pd_{key.lookup}_" in html
    assert (
        client.get(reverse("tenants:api-keys", kwargs={"slug": tenant.slug}))
        .content.decode()
        .count(f"pd_{key.lookup}_…")
        == 1
    )
    client.post(
        reverse("tenants:api-key-revoke", kwargs={"slug": tenant.slug, "key_id": key.public_id})
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_settings_changes_are_audited_with_before_and_after(client, manager):
    tenant = manager.memberships.get().tenant
    client.post(
        reverse("tenants:settings", kwargs={"slug": tenant.slug}),
        {
            "auto_refund_limit": "90",
            "daily_auto_refund_cap": "900",
            "confidence_threshold": "0.8",
            "specialist_approval_limit": "300",
            "decision_sla_hours": "2",
            "qa_sample_percent": "5",
            "csat_survey_delay_hours": "24",
            "auto_action_kinds": ["reply"],
        },
    )
    event = AuditEvent.objects.get(tenant=tenant, verb="tenant.settings")
    assert event.data["before"]["auto_refund_limit"] == "200.00"
    assert event.data["after"]["auto_refund_limit"] == "90"


def test_audit_log_exports_csv(client, manager):
    tenant = manager.memberships.get().tenant
    client.post(reverse("tenants:api-keys", kwargs={"slug": tenant.slug}), {"name": "shop"})
    response = client.get(reverse("tenants:audit", kwargs={"slug": tenant.slug}), {"format": "csv"})
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("at,actor_type")
    assert "api_key.issue" in body


def test_a_specialist_cannot_create_merchants(client):
    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    assert client.post(reverse("tenants:create"), {"name": "X", "slug": "x"}).status_code == 403
    assert not Tenant.objects.filter(slug="x").exists()


def test_the_slug_new_is_reserved(client, manager):
    response = client.post(
        reverse("tenants:create"),
        {"name": "New", "slug": "new", "time_zone": "UTC", "currency": "USD", "locale": "en"},
    )
    assert response.status_code == 200
    assert not Tenant.objects.filter(slug="new").exists()
