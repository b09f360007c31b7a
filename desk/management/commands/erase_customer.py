from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from desk.privacy import erase_customer
from tenants.actor import Actor
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Anonymise one customer's personal data at a tenant (a deletion request)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--yes", action="store_true", help="Confirm: erasure cannot be undone.")

    def handle(self, *args, tenant: str, email: str, yes: bool, **options) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant {tenant!r}")
        if not yes:
            raise CommandError("Erasure cannot be undone; run again with --yes.")
        counts = erase_customer(found, email, Actor.system("erase_customer"))
        self.stdout.write(json.dumps(counts))
