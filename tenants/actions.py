"""State changes of tenants, memberships, API keys; and the audit writer all apps use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from tenants.actor import Actor
from tenants.models import ApiKey, AuditEvent, Membership, Tenant, User

# The audit rows an action holds back to write in one insert (see audits_in_one_insert).
_held: ContextVar[list[AuditEvent] | None] = ContextVar("held_audit_events", default=None)


def audit(
    tenant: Tenant, actor: Actor, verb: str, obj: Any, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one audit row; call inside the action's transaction."""
    event = AuditEvent(
        tenant=tenant,
        actor_type=actor.type,
        actor_user=actor.user,
        actor_label=actor.label,
        verb=verb,
        object_type=type(obj).__name__,
        object_id=str(getattr(obj, "public_id", None) or obj.pk),
        data=data or {},
    )
    held = _held.get()
    if held is None:
        event.save()
    else:
        held.append(event)
    return event


@contextmanager
def audits_in_one_insert() -> Iterator[None]:
    """The audit rows written inside the block go in with one insert as it ends, still
    inside the caller's transaction: for actions on the busy path that write several
    (an agent's proposal and resolution), each then announced as saving it would
    (``post_save``). If the block raises, none is written, as the transaction's
    rollback would have undone them. Nested blocks share the outer one."""
    if _held.get() is not None:
        yield
        return
    held: list[AuditEvent] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    if held:
        AuditEvent.objects.bulk_create(held)
        # As saving each would: integrations act on audit rows (a resolution closes
        # the merchant's helpdesk ticket, a moment goes to their marketing tool).
        for event in held:
            post_save.send(
                AuditEvent,
                instance=event,
                created=True,
                update_fields=None,
                raw=False,
                using=event._state.db,
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


@transaction.atomic
def create_tenant(creator: User, **fields) -> Tenant:
    """A new merchant; its creator becomes its account manager."""
    tenant = Tenant.objects.create(**fields)
    Membership.objects.create(user=creator, tenant=tenant, role="account_manager")
    audit(tenant, Actor.member(creator), "tenant.create", tenant, {"after": _public(fields)})
    return tenant


def _public(values: dict) -> dict:
    return {
        k: str(v) if not isinstance(v, list | dict | bool | int | type(None)) else v
        for k, v in values.items()
    }


@transaction.atomic
def update_tenant_settings(tenant: Tenant, actor: Actor, changes: dict) -> Tenant:
    """Change autonomy and SLA settings, recording before and after."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {field: getattr(locked, field) for field in changes}
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.autonomy_confirmed_at = timezone.now()
    locked.save()
    audit(
        locked,
        actor,
        "tenant.settings",
        locked,
        {"before": _public(before), "after": _public(changes)},
    )
    return locked


@transaction.atomic
def update_retention_settings(tenant: Tenant, actor: Actor, changes: dict) -> Tenant:
    """Change how long personal data, webhook payloads and traces are kept,
    recording before and after. Takes effect at the next nightly pass."""
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    before = {field: getattr(locked, field) for field in changes}
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save(update_fields=[*changes, "updated_at"])
    audit(locked, actor, "tenant.retention", locked, {"before": before, "after": changes})
    return locked


@transaction.atomic
def invite_member(
    tenant: Tenant, email: str, role: str, actor: Actor, *, first_name: str = ""
) -> tuple[User, bool]:
    """Give ``email`` a role at ``tenant``; a new person gets an account without a
    password (they set it from the emailed link). Returns (user, created)."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email, None, first_name=first_name)
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    audit(
        tenant,
        actor,
        "membership.invite",
        membership,
        {"email": email, "role": role, "new_user": created},
    )
    return user, created


@transaction.atomic
def change_role(membership: Membership, role: str, actor: Actor) -> Membership:
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        membership.tenant, actor, "membership.role", membership, {"before": before, "after": role}
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, actor: Actor) -> None:
    audit(
        membership.tenant, actor, "membership.remove", membership, {"email": membership.user.email}
    )
    membership.delete()


@transaction.atomic
def revoke_api_key(key: ApiKey, actor: Actor) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(key.tenant, actor, "api_key.revoke", key, {"name": key.name})
    return key


class NotReadyToGoLive(Exception):
    pass


@transaction.atomic
def go_live(tenant: Tenant, actor: Actor) -> Tenant:
    """Open the tenant for real contacts once every onboarding step is done."""
    from tenants.onboarding import missing

    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if locked.went_live_at:
        return locked
    todo = missing(locked)
    if todo:
        raise NotReadyToGoLive("Still to do: " + ", ".join(step.title for step in todo))
    locked.went_live_at = timezone.now()
    locked.save(update_fields=["went_live_at"])
    audit(locked, actor, "tenant.go_live", locked)
    return locked
