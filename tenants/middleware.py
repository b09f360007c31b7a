"""Every page needs a login except the few public doors listed here."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

PUBLIC_PREFIXES = (
    "/healthz",
    "/accounts/",  # allauth: login, logout, password reset
    "/api/",  # authenticated by tenant API key instead
    "/webhooks/",  # authenticated by the provider's signature instead
    "/static/",
    "/csat/",  # a customer's survey link; the signed token is the credential
)


class LoginRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated or request.path.startswith(PUBLIC_PREFIXES):
            return self.get_response(request)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
