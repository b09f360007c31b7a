from __future__ import annotations

from django.http import HttpRequest

from tenants.access import memberships_of


def memberships(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"my_memberships": list(memberships_of(request.user))}
