from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "AI agents"

    def ready(self) -> None:
        from agents.policy.models import PolicyVersion
        from agents.simulator.models import Simulation
        from tenants import onboarding

        def policy_published(tenant) -> bool:
            return PolicyVersion.objects.filter(
                policy__tenant=tenant, status=PolicyVersion.Status.PUBLISHED
            ).exists()

        onboarding.register(
            onboarding.Step(
                "policy", "Publish a returns policy", policy_published, "policy:page", order=30
            )
        )

        def simulated(tenant) -> bool:
            return Simulation.objects.filter(tenant=tenant, status=Simulation.Status.DONE).exists()

        onboarding.register(
            onboarding.Step(
                "simulation",
                "Simulate the merchant's past tickets",
                simulated,
                "simulator:page",
                order=35,
                optional=True,
            )
        )
