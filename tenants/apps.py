from __future__ import annotations

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and access"

    def ready(self) -> None:
        from tenants import onboarding
        from tenants.models import Membership
        from tenants.roles import Role

        def staffed(tenant) -> bool:
            roles = set(Membership.objects.filter(tenant=tenant).values_list("role", flat=True))
            return Role.SPECIALIST in roles and Role.LEAD in roles

        onboarding.register(
            onboarding.Step(
                "autonomy",
                "Confirm autonomy, approval limits and SLA",
                lambda t: t.autonomy_confirmed_at is not None,
                "tenants:settings",
                order=60,
            )
        )
        onboarding.register(
            onboarding.Step(
                "members",
                "Invite at least one specialist and one lead",
                staffed,
                "tenants:members",
                order=80,
            )
        )
        onboarding.register(
            onboarding.Step(
                "api_key",
                "Create an API key for the intake",
                lambda t: t.api_keys.filter(revoked_at__isnull=True).exists(),
                "tenants:api-keys",
                order=90,
            )
        )
