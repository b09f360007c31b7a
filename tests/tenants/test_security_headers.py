"""Security headers and the admin behind the same sign-in as everyone else."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


def test_admin_login_sends_strangers_to_the_desk_login(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_refuses_a_signed_in_member_who_is_not_staff(client):
    from tenants.roles import Role
    from tests.factories import make_member, make_tenant

    client.force_login(make_member(make_tenant(), Role.LEAD))
    assert client.get("/admin/login/").status_code == 403
