"""Login by email, no open sign-up, and the audit log stays append-only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tenants.access import tenant_for_api_key
from tenants.actions import audit, issue_api_key
from tenants.actor import Actor
from tenants.models import ApiKey, AuditEvent, User
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


def test_member_logs_in_with_email_and_password(client):
    tenant = make_tenant()
    user = make_member(tenant, Role.SPECIALIST, email="sam@example.com")
    response = client.post(
        "/accounts/login/", {"login": "sam@example.com", "password": "test-pass-123"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_does_not_log_in(client):
    make_member(make_tenant(), Role.SPECIALIST, email="sam@example.com")
    response = client.post("/accounts/login/", {"login": "sam@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_nobody_can_sign_up_alone(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "intruder@example.com",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert not User.objects.filter(email="intruder@example.com").exists()
    assert response.status_code in (200, 403)


def test_logout_needs_a_post(client):
    client.force_login(make_member(make_tenant(), Role.SPECIALIST))
    client.get("/accounts/logout/")
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_audit_events_cannot_be_edited():
    tenant = make_tenant()
    event = audit(tenant, Actor.system(), "test.thing", tenant)
    event.verb = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert AuditEvent.objects.get().verb == "test.thing"


def test_api_key_records_when_it_was_last_used():
    tenant = make_tenant()
    key = issue_api_key(tenant, "shop", Actor.system())
    assert ApiKey.objects.get().last_used_at is None
    assert tenant_for_api_key(key)[0] == tenant
    assert ApiKey.objects.get().last_used_at <= timezone.now()


def test_api_key_of_a_deactivated_tenant_is_refused():
    tenant = make_tenant()
    key = issue_api_key(tenant, "shop", Actor.system())
    tenant.is_active = False
    tenant.save()
    assert tenant_for_api_key(key) is None
