"""Compiled policies, cached per version: compiling 60 rules costs more than evaluating one."""

from __future__ import annotations

from agents.policy.engine import CompiledPolicy
from agents.policy.models import Policy, PolicyVersion
from tenants.models import Tenant

_CACHE: dict[tuple, CompiledPolicy] = {}
_CACHE_SIZE = 256


def version_for(tenant: Tenant, number: int | None = None) -> PolicyVersion | None:
    """Version ``number`` of the tenant's policy, or the one in force when no number is given."""
    policy = Policy.objects.filter(tenant=tenant).first()
    if policy is None:
        return None
    if number is None:
        return policy.current()
    return policy.versions.filter(number=number).first()


def compile_version(version: PolicyVersion, tenant: Tenant) -> CompiledPolicy:
    """The version compiled for the tenant's currency and time zone, from cache when possible."""
    # A draft can change, so its edit time is part of the key; a published one never does.
    key = (version.pk, version.updated_at, tenant.currency, tenant.time_zone)
    compiled = _CACHE.get(key)
    if compiled is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        compiled = CompiledPolicy(
            version.document,
            currency=tenant.currency,
            time_zone=tenant.time_zone,
            version=version.number,
        )
        _CACHE[key] = compiled
    return compiled


def compiled_policy(tenant: Tenant, number: int | None = None) -> CompiledPolicy | None:
    version = version_for(tenant, number)
    return None if version is None else compile_version(version, tenant)
