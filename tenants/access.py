"""Tenant-scoped lookups. Outside the tenant → 404; role too low → 403."""

from __future__ import annotations

import hmac

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from tenants.actions import touch_api_key
from tenants.models import ApiKey, Membership, Tenant, User


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, tenant__is_active=True).select_related("tenant")


def tenants_where(user: User, permission: str) -> list[Tenant]:
    """The tenants in which ``user`` holds ``permission``."""
    return [m.tenant for m in memberships_of(user) if m.can(permission)]


def get_membership(user: User, tenant: Tenant) -> Membership:
    """The user's membership at ``tenant``, or 404 if they have none."""
    membership = memberships_of(user).filter(tenant=tenant).first()
    if membership is None:
        raise Http404("No such tenant")
    return membership


def require(membership: Membership, permission: str) -> Membership:
    if not membership.can(permission):
        raise PermissionDenied(f"Your role cannot {permission}")
    return membership


def get_tenant_for_member(user: User, slug: str, permission: str) -> tuple[Tenant, Membership]:
    """Tenant by slug for a member holding ``permission`` there: 404 if not a member, 403 if the
    role is too low."""
    membership = memberships_of(user).filter(tenant__slug=slug).first()
    if membership is None:
        raise Http404("No such tenant")
    require(membership, permission)
    return membership.tenant, membership


def tenant_for_api_key(raw_key: str) -> tuple[Tenant, ApiKey] | None:
    """The tenant an API key belongs to, or None for a malformed, unknown or revoked key."""
    parts = ApiKey.split(raw_key)
    if parts is None:
        return None
    lookup, secret = parts
    key = ApiKey.objects.select_related("tenant").filter(lookup=lookup).first()
    if key is None or not key.is_active or not key.tenant.is_active:
        return None
    if not hmac.compare_digest(key.secret_hash, ApiKey.hash_secret(secret)):
        return None
    touch_api_key(key)
    return key.tenant, key


def can_onboard(user: User) -> bool:
    """Staff admins and account managers may create new merchants."""
    if user.is_staff:
        return True
    return Membership.objects.filter(user=user, role="account_manager").exists()


def get_membership_in_tenant(tenant: Tenant, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "tenant")
        .filter(tenant=tenant, pk=membership_id)
        .first()
    )
    if membership is None:
        raise Http404("No such member")
    return membership


def get_api_key_in_tenant(tenant: Tenant, public_id: str) -> ApiKey:
    import uuid

    try:
        key_id = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404("No such key") from exc
    key = ApiKey.objects.filter(tenant=tenant, public_id=key_id).first()
    if key is None:
        raise Http404("No such key")
    return key
