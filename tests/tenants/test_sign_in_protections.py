"""Sign-in protections: TOTP with recovery codes, failed logins limited in the
real cache, and the Django admin behind the same door as everyone else."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.urls import reverse

from tenants.models import User
from tenants.roles import Role
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db

PASSWORD = "test-pass-123"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Dozens of sign-in attempts here; the hash's cost is not what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _current_code(secret: str) -> str:
    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def _log_in(client, email: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def _with_totp(user: User) -> list[str]:
    """Give ``user`` TOTP and recovery codes; return the unused codes."""
    TOTP.activate(user, generate_totp_secret())
    return RecoveryCodes.activate(user).get_unused_codes()


def test_two_factor_offers_totp_and_recovery_codes():
    assert set(settings.MFA_SUPPORTED_TYPES) == {"totp", "recovery_codes"}


def test_activating_totp_hands_out_recovery_codes(client):
    user = make_member(make_tenant(), Role.SPECIALIST, email="tara@example.com")
    assert _log_in(client, user.email).status_code == 302
    # allauth asks for the password again before changing two-factor settings.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]

    response = client.post(reverse("mfa_activate_totp"), {"code": _current_code(secret)})

    assert response.status_code == 302
    kinds = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    assert kinds == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}


def test_a_recovery_code_completes_the_sign_in_once(client):
    user = make_member(make_tenant(), Role.LEAD, email="rob@example.com")
    code = _with_totp(user)[0]

    response = _log_in(client, user.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the password alone is not enough

    client.post(reverse("mfa_authenticate"), {"code": code})
    assert client.session["_auth_user_id"] == str(user.pk)

    client.post(reverse("account_logout"))
    _log_in(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert "_auth_user_id" not in client.session  # spent


def test_failed_logins_are_limited_per_account_in_redis(client):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    user = make_member(make_tenant(), Role.SPECIALIST, email="lola@example.com")
    # Each guess from a different address: the per-account limit is what holds.
    for i in range(5):
        response = _log_in(client, user.email, "wrong-password", ip=f"10.1.0.{i}")
        assert response.status_code == 200

    response = _log_in(client, user.email, PASSWORD, ip="10.1.0.99")

    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    assert b"Too many failed login attempts" in response.content


def test_failed_logins_are_limited_per_address(client):
    tenant = make_tenant()
    for i in range(10):
        _log_in(client, f"nobody{i}@example.com", "wrong-password", ip="10.2.0.1")
    user = make_member(tenant, Role.SPECIALIST, email="ivy@example.com")

    _log_in(client, user.email, PASSWORD, ip="10.2.0.1")

    assert "_auth_user_id" not in client.session


def test_wrong_totp_codes_are_limited_too(client):
    user = make_member(make_tenant(), Role.LEAD, email="tom@example.com")
    _with_totp(user)
    _log_in(client, user.email)
    for _ in range(5):
        client.post(reverse("mfa_authenticate"), {"code": "000000"})
    code = _current_code(
        Authenticator.objects.get(user=user, type="totp").wrap().instance.data["secret"]
    )

    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


# --- the Django admin -----------------------------------------------------------


@pytest.fixture
def staff():
    return User.objects.create_user("ops@example.com", PASSWORD, is_staff=True, is_superuser=True)


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/"])
def test_admin_sends_strangers_to_the_desk_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_admin_password_form_cannot_sign_in_around_the_rate_limit(client, staff):
    """Its form would call authenticate() directly: no rate limit, no TOTP stage."""
    other = User.objects.create_user("root@example.com", PASSWORD, is_staff=True)
    client.force_login(staff)
    client.post("/admin/login/", {"username": other.email, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_admin_needs_two_factor_when_approvals_do(client, staff, settings):
    settings.MFA_REQUIRED_FOR_APPROVALS = True
    client.force_login(staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_index")

    _with_totp(staff)
    assert client.get("/admin/").status_code == 200


def test_admin_is_closed_to_members_who_are_not_staff(client):
    client.force_login(make_member(make_tenant(), Role.ADMIN))
    assert client.get("/admin/login/").status_code == 403
