"""The role × permission matrix. Views ask for a permission, never for a role.

| permission        | specialist | lead | account_manager | merchant_admin | admin |
|-------------------|:----------:|:----:|:---------------:|:--------------:|:-----:|
| contact.view      |     ✓      |  ✓   |        ✓        |                |   ✓   |
| proposal.decide   |     ✓      |  ✓   |                 |                |   ✓   |
| billing.view      |            |  ✓   |        ✓        |       ✓        |   ✓   |
| tenant.manage     |            |      |        ✓        |                |   ✓   |
| quality.review    |            |  ✓   |        ✓        |                |   ✓   |
| sla.manage        |            |  ✓   |        ✓        |                |   ✓   |
| carrier.map       |            |      |                 |                |   ✓   |
"""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    SPECIALIST = "specialist", "Tier-2 specialist"
    LEAD = "lead", "Team lead"
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    MERCHANT_ADMIN = "merchant_admin", "Merchant admin"
    ADMIN = "admin", "Admin"


class Permission(models.TextChoices):
    VIEW_CONTACTS = "contact.view"
    DECIDE_PROPOSALS = "proposal.decide"
    VIEW_BILLING = "billing.view"
    MANAGE_TENANT = "tenant.manage"
    REVIEW_QUALITY = "quality.review"
    MANAGE_SLA = "sla.manage"
    # Platform-wide: carrier codes belong to no merchant. Staff users hold it too.
    MAP_CARRIER_CODES = "carrier.map"


GRANTS: dict[str, frozenset[str]] = {
    Role.SPECIALIST: frozenset({Permission.VIEW_CONTACTS, Permission.DECIDE_PROPOSALS}),
    Role.LEAD: frozenset(
        {
            Permission.VIEW_CONTACTS,
            Permission.DECIDE_PROPOSALS,
            Permission.VIEW_BILLING,
            Permission.REVIEW_QUALITY,
            Permission.MANAGE_SLA,
        }
    ),
    Role.ACCOUNT_MANAGER: frozenset(
        {
            Permission.VIEW_CONTACTS,
            Permission.VIEW_BILLING,
            Permission.MANAGE_TENANT,
            Permission.REVIEW_QUALITY,
            Permission.MANAGE_SLA,
        }
    ),
    Role.MERCHANT_ADMIN: frozenset({Permission.VIEW_BILLING}),
    Role.ADMIN: frozenset(Permission.values),
}


def role_grants(role: str, permission: str) -> bool:
    return permission in GRANTS.get(role, frozenset())
