"""Realistic returns policies for the three demo merchants, kept as policy files."""

from __future__ import annotations

from pathlib import Path

from agents.policy.actions import import_policy
from agents.policy.models import PolicyVersion
from tenants.actor import Actor
from tenants.models import Tenant

DEMO_DIR = Path(__file__).resolve().parent / "demo"

# Tenant slug → policy file in demo/.
DEMO_POLICIES = {
    "northwind": "northwind-apparel.yaml",
    "lumen": "lumen-electronics.yaml",
    "kettle": "kettle-cross-border.yaml",
}


def demo_policy_text(slug: str) -> str:
    return (DEMO_DIR / DEMO_POLICIES[slug]).read_text()


def seed_demo_policies() -> list[PolicyVersion]:
    """Import and publish each demo merchant's policy; a second run changes nothing.

    Merchants that do not exist (yet) are skipped."""
    actor = Actor.system("demo")
    versions = []
    for tenant in Tenant.objects.filter(slug__in=DEMO_POLICIES).order_by("slug"):
        version, _ = import_policy(
            tenant, demo_policy_text(tenant.slug), actor, publish=True, note="Demo policy"
        )
        versions.append(version)
    return versions
