"""Tenant pages: the account manager's list of merchants, onboarding, members, keys, audit."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenants.access import memberships_of


@require_GET
def tenant_list(request: HttpRequest) -> HttpResponse:
    """Every tenant the member belongs to, with their role there."""
    return render(request, "tenants/list.html", {"memberships": list(memberships_of(request.user))})
