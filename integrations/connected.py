"""Which tenants have an active connection to which provider, read at most every
few seconds per process.

Hooks that fire on every resolution or scan (Klaviyo moments, closing Gorgias
tickets) ask this first, so tenants without the provider, nearly all of them,
cost no query at all. A change to a connection in this process is seen at once;
in others within ``TTL`` seconds."""

from __future__ import annotations

import time
from collections import defaultdict

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.models import Connection

TTL = 10.0
_cache: tuple[float, dict[str, frozenset[int]]] = (0.0, {})


def tenants_with(provider: str) -> frozenset[int]:
    global _cache
    expires, by_provider = _cache
    if expires <= time.monotonic():
        found: dict[str, set[int]] = defaultdict(set)
        for code, tenant_id in Connection.objects.filter(is_active=True).values_list(
            "provider", "tenant_id"
        ):
            found[code].add(tenant_id)
        by_provider = {code: frozenset(ids) for code, ids in found.items()}
        _cache = (time.monotonic() + TTL, by_provider)
    return by_provider.get(provider, frozenset())


@receiver([post_save, post_delete], sender=Connection, dispatch_uid="integrations.connected")
def _forget(sender, **kwargs) -> None:
    global _cache
    _cache = (0.0, {})
