"""State changes of returns policies: drafts, edits, publishing, import.

Every function here validates the document before it is stored, runs in one
transaction and writes an audit row with the actor."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from agents.policy.models import ImmutableVersionError, Policy, PolicyVersion
from agents.policy.schema import parse_text, validate_document
from tenants.actions import audit
from tenants.actor import Actor
from tenants.models import Tenant


def _locked_policy(tenant: Tenant) -> Policy:
    policy, _ = Policy.objects.get_or_create(tenant=tenant)
    # Lock the policy row so two drafts created at once get different numbers.
    return Policy.objects.select_for_update().get(pk=policy.pk)


@transaction.atomic
def create_draft(
    tenant: Tenant, document: dict[str, Any], actor: Actor, *, note: str = ""
) -> PolicyVersion:
    """A new draft version numbered after the highest existing one."""
    validate_document(document)
    policy = _locked_policy(tenant)
    if document.get("name") and document["name"] != policy.name:
        policy.name = document["name"][:120]
        policy.save(update_fields=["name", "updated_at"])
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion.objects.create(
        policy=policy, number=number, document=document, note=note[:255], created_by=actor.user
    )
    audit(tenant, actor, "policy.draft", version, {"number": number, "rules": len(version.rules)})
    return version


@transaction.atomic
def update_draft(version: PolicyVersion, document: dict[str, Any], actor: Actor) -> PolicyVersion:
    """Replace a draft's rules. Published versions refuse (ImmutableVersionError)."""
    validate_document(document)
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ImmutableVersionError(f"Version {version.number} is published and cannot change")
    version.document = document
    version.save(update_fields=["document", "updated_at"])
    tenant = version.policy.tenant
    audit(
        tenant,
        actor,
        "policy.edit",
        version,
        {"number": version.number, "rules": len(version.rules)},
    )
    return version


@transaction.atomic
def publish_version(version: PolicyVersion, actor: Actor) -> PolicyVersion:
    """Freeze a draft and put it in force. Publishing an already published version is a no-op."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        return version
    validate_document(version.document)
    version.status = PolicyVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.save(update_fields=["status", "published_at", "updated_at"])
    audit(version.policy.tenant, actor, "policy.publish", version, {"number": version.number})
    return version


@transaction.atomic
def import_policy(
    tenant: Tenant, text: str, actor: Actor, *, publish: bool = False, note: str = ""
) -> tuple[PolicyVersion, bool]:
    """Store a policy file as a new draft (and publish it if asked).

    Importing the same document as the latest version creates nothing, so a
    repeated import is harmless; returns the version and whether it is new."""
    document = parse_text(text)
    policy = _locked_policy(tenant)
    latest = policy.versions.order_by("-number").first()
    if latest is not None and latest.document == document:
        if publish and not latest.is_published:
            latest = publish_version(latest, actor)
        return latest, False
    version = create_draft(tenant, document, actor, note=note or "Imported from a file")
    if publish:
        version = publish_version(version, actor)
    return version, True


def move_rule(version: PolicyVersion, rule_id: str, offset: int, actor: Actor) -> PolicyVersion:
    """Move one rule of a draft up (negative offset) or down; order decides which rule wins."""
    rules = list(version.rules)
    index = next((i for i, r in enumerate(rules) if r["id"] == rule_id), None)
    if index is None:
        raise ValueError(f"No rule {rule_id!r} in version {version.number}")
    target = min(max(index + offset, 0), len(rules) - 1)
    rules.insert(target, rules.pop(index))
    return update_draft(version, {**version.document, "rules": rules}, actor)


def remove_rule(version: PolicyVersion, rule_id: str, actor: Actor) -> PolicyVersion:
    """Delete one rule from a draft."""
    rules = [r for r in version.rules if r["id"] != rule_id]
    if len(rules) == len(version.rules):
        raise ValueError(f"No rule {rule_id!r} in version {version.number}")
    return update_draft(version, {**version.document, "rules": rules}, actor)


def start_draft(tenant: Tenant, actor: Actor) -> PolicyVersion:
    """A new draft to edit: a copy of the latest version, or a one-rule starter policy."""
    latest = PolicyVersion.objects.filter(policy__tenant=tenant).order_by("-number").first()
    if latest is not None:
        return create_draft(tenant, latest.document, actor, note=f"Copy of version {latest.number}")
    starter = {
        "format": 1,
        "default": {"outcome": "review"},
        "rules": [
            {
                "id": "standard-30",
                "when": {
                    "condition": ["unopened", "opened"],
                    "days_since": {"from": "delivered", "max": 30},
                },
                "then": {"outcome": "refund"},
            }
        ],
    }
    return create_draft(tenant, starter, actor, note="Starter policy")
