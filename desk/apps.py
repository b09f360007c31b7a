from __future__ import annotations

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = "Tier-2 desk"

    def ready(self) -> None:
        from desk.models import SlaPolicy
        from tenants import onboarding

        def sla_targets_set(tenant) -> bool:
            return SlaPolicy.objects.filter(tenant=tenant).exists()

        onboarding.register(
            onboarding.Step("sla", "SLA targets set", sla_targets_set, "desk:sla", order=50)
        )
