from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations and mirrored commerce data"

    def ready(self) -> None:
        from anymail.signals import tracking

        from integrations.gorgias import status as _gorgias_status  # noqa: F401
        from integrations.klaviyo import moments as _klaviyo_moments  # noqa: F401
        from integrations.messaging.email_events import on_tracking
        from integrations.models import Connection
        from tenants import onboarding

        tracking.connect(on_tracking, dispatch_uid="integrations.postmark-events")

        from django.db.models.signals import post_delete, post_save

        from integrations import health

        def start_clean(sender, instance, created=True, **kwargs) -> None:
            # A new connection (or one deleted) has no history of calls.
            if created:
                health.forget(instance.pk)

        post_save.connect(start_clean, sender=Connection, dispatch_uid="integrations.health-new")
        post_delete.connect(start_clean, sender=Connection, dispatch_uid="integrations.health-gone")

        def has(kind: str):
            return lambda tenant: Connection.objects.filter(
                tenant=tenant, kind=kind, is_active=True
            ).exists()

        onboarding.register(
            onboarding.Step(
                "store",
                "Connect the store platform",
                has(Connection.Kind.COMMERCE),
                "connections:page",
                order=10,
            )
        )
        onboarding.register(
            onboarding.Step(
                "carriers",
                "Connect carriers or a tracking aggregator",
                has(Connection.Kind.CARRIER),
                "connections:page",
                order=20,
            )
        )
