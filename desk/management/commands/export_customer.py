from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from desk.privacy import export_customer
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Print everything held about one customer of a tenant, as JSON (a subject access request)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--email", required=True)

    def handle(self, *args, tenant: str, email: str, **options) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}")
        self.stdout.write(json.dumps(export_customer(found, email), indent=2, ensure_ascii=False))
