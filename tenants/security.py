"""Step-up checks for money-moving decisions, enforced in views (never templates).

- Anyone who approves money needs two-factor authentication (TOTP) when
  MFA_REQUIRED_FOR_APPROVALS is on (the default outside DEBUG; the demo turns
  it off so its printed logins work as they are).
- Approving above the specialist limit (a co-approval, or an edit that
  raises the amount past it) needs a recent re-authentication.
- The Django admin can change anything, money included: it signs in only
  through the allauth login (rate limits, the TOTP stage) and, under the same
  setting, opens only to staff with two-factor authentication."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_htmx.http import HttpResponseClientRedirect


class StepUpRequired(Exception):
    """The member must re-authenticate first; ``response`` sends them there."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("Re-authentication required")
        self.response = response


def require_mfa_for_money(request: HttpRequest) -> None:
    if settings.MFA_REQUIRED_FOR_APPROVALS and not is_mfa_enabled(request.user):
        raise PermissionDenied(
            "Approving money needs two-factor authentication: set it up under "
            f"{reverse('mfa_index')} and try again."
        )


def require_recent_login(request: HttpRequest, back_to: str) -> None:
    """Raise StepUpRequired unless the member signed in or re-authenticated within
    ACCOUNT_REAUTHENTICATION_TIMEOUT seconds."""
    records = get_authentication_records(request, request.user)
    if records and time.time() - records[-1]["at"] < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
        return
    url = f"{reverse('account_reauthenticate')}?{urlencode({'next': back_to})}"
    response = HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)
    raise StepUpRequired(response)


def _mfa_missing(user) -> bool:
    return settings.MFA_REQUIRED_FOR_APPROVALS and not is_mfa_enabled(user)


def admin_has_permission(request: HttpRequest) -> bool:
    """Replaces AdminSite.has_permission: active staff, with two-factor when required."""
    user = request.user
    return user.is_active and user.is_staff and not _mfa_missing(user)


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """Replaces AdminSite.login. The admin's own password form would sign in
    around allauth (no rate limit, no TOTP stage), so it is never shown."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied("The admin is for staff only.")
    if _mfa_missing(request.user):
        return redirect("mfa_index")
    return redirect(next_url)
