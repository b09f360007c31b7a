"""Step-up checks for money-moving decisions, enforced in views (never templates).

- Anyone who approves money needs two-factor authentication (TOTP) when
  MFA_REQUIRED_FOR_APPROVALS is on (the default outside DEBUG; the demo turns
  it off so its printed logins work as they are).
- Approving above the specialist limit (a co-approval, or an edit that
  raises the amount past it) needs a recent re-authentication."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
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
