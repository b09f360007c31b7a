from __future__ import annotations

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Contracts and usage"

    def ready(self) -> None:
        from tenants import onboarding

        onboarding.register(
            onboarding.Step(
                "contract",
                "Set contract prices and the deflection floor",
                lambda tenant: tenant.contracts.exists(),
                "billing:contracts",
                order=40,
            )
        )
