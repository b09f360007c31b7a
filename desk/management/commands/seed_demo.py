from __future__ import annotations

from django.core.management.base import BaseCommand

from desk import demo


class Command(BaseCommand):
    help = "Create the three demo merchants, demo people and orders (idempotent)."

    def handle(self, *args, **options) -> None:
        tenants = demo.seed()
        self.stdout.write(f"Demo tenants ready: {', '.join(t.slug for t in tenants)}")
