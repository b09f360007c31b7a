from __future__ import annotations

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = "Tier-2 desk"

    def ready(self) -> None:
        from desk import delivery
        from desk.models import SlaPolicy
        from integrations.messaging.signals import delivery_changed
        from tenants import onboarding

        delivery_changed.connect(delivery.push_delivery_change, dispatch_uid="desk.delivery")
        delivery_changed.connect(
            delivery.reopen_when_an_answer_fails, dispatch_uid="desk.reopen_on_failed_answer"
        )

        def sla_targets_set(tenant) -> bool:
            return SlaPolicy.objects.filter(tenant=tenant).exists()

        onboarding.register(
            onboarding.Step("sla", "SLA targets set", sla_targets_set, "desk:sla", order=50)
        )
