from __future__ import annotations

from django.http import HttpRequest

from tenants.access import memberships_of
from tenants.roles import Permission


def memberships(request: HttpRequest) -> dict:
    """The signed-in member's tenants with what the navigation may offer for each.
    Links only: every view still checks the permission itself."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    memberships = list(memberships_of(request.user))
    nav = [
        {
            "tenant": m.tenant,
            "billing": m.can(Permission.VIEW_BILLING),
            "policy": m.can(Permission.MANAGE_TENANT),
            "quality": m.can(Permission.REVIEW_QUALITY),
        }
        for m in memberships
    ]
    return {
        "my_memberships": nav,
        "nav_board": any(
            m.can(Permission.VIEW_BILLING) and m.can(Permission.VIEW_CONTACTS) for m in memberships
        ),
        "nav_merchants": any(m.can(Permission.MANAGE_TENANT) for m in memberships),
    }
