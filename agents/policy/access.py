"""Tenant-scoped lookups for the policy editor. Outside the tenant → 404; role too low → 403."""

from __future__ import annotations

import uuid

from django.http import Http404

from agents.policy.models import PolicyVersion
from tenants.access import get_tenant_for_member
from tenants.models import Membership, Tenant, User
from tenants.roles import Permission


def get_policy_tenant_for_member(user: User, slug: str) -> tuple[Tenant, Membership]:
    """The tenant whose policy ``user`` may edit (account managers and admins)."""
    return get_tenant_for_member(user, slug, Permission.MANAGE_TENANT)


def get_version_for_member(
    user: User, slug: str, version_id: str
) -> tuple[Tenant, Membership, PolicyVersion]:
    """A version of the tenant's policy by public id; 404 for another tenant's version."""
    tenant, membership = get_policy_tenant_for_member(user, slug)
    try:
        public_id = uuid.UUID(version_id)
    except ValueError as exc:
        raise Http404("No such policy version") from exc
    version = (
        PolicyVersion.objects.select_related("policy__tenant", "created_by")
        .filter(policy__tenant=tenant, public_id=public_id)
        .first()
    )
    if version is None:
        raise Http404("No such policy version")
    return tenant, membership, version
