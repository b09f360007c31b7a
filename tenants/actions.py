"""State changes of tenants, memberships, API keys; and the audit writer all apps use."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from tenants.actor import Actor
from tenants.models import ApiKey, AuditEvent, Membership, Tenant, User


def audit(
    tenant: Tenant, actor: Actor, verb: str, obj: Any, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one audit row; call inside the action's transaction."""
    return AuditEvent.objects.create(
        tenant=tenant,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        verb=verb,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "public_id", None) or obj.pk),
        data=data or {},
    )


@transaction.atomic
def add_member(tenant: Tenant, user: User, role: str, actor: Actor) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    audit(tenant, actor, "membership.set", membership, {"user": user.email, "role": role})
    return membership


@transaction.atomic
def issue_api_key(tenant: Tenant, name: str, actor: Actor, raw_key: str | None = None) -> str:
    """Create an API key and return the raw key; it is shown once and never stored."""
    if raw_key:
        parts = ApiKey.split(raw_key)
        if parts is None:
            raise ValueError("Malformed API key")
        lookup, secret = parts
    else:
        lookup, secret, raw_key = ApiKey.new_raw_key()
    key = ApiKey.objects.create(
        tenant=tenant, name=name, lookup=lookup, secret_hash=ApiKey.hash_secret(secret)
    )
    audit(tenant, actor, "api_key.issue", key, {"name": name})
    return raw_key


def touch_api_key(key: ApiKey) -> None:
    """Record use; at most once a minute so the hot path does not write every call."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
