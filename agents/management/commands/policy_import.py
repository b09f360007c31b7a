"""Import a returns-policy file (YAML or JSON) as a new draft version, optionally publishing it."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.policy.actions import import_policy
from agents.policy.schema import PolicyFormatError
from tenants.actor import Actor
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Import a returns-policy file for a merchant as a draft (or published) version."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Merchant slug")
        parser.add_argument("file", help="Policy file (YAML or JSON); - for stdin")
        parser.add_argument("--publish", action="store_true", help="Publish the imported version")
        parser.add_argument("--note", default="", help="Why this version exists")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        name = options["file"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}") from exc
        try:
            version, created = import_policy(
                tenant,
                text,
                Actor.system("policy_import"),
                publish=options["publish"],
                note=options["note"],
            )
        except PolicyFormatError as exc:
            for error in exc.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{name}: {len(exc.errors)} problem(s), nothing imported") from exc
        state = "new" if created else "unchanged, same as"
        self.stdout.write(
            f"{tenant.slug}: {state} version {version.number} ({version.status}, "
            f"{len(version.rules)} rules)"
        )
