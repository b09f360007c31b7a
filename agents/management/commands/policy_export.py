"""Print a merchant's returns policy in the file format, ready to edit and import again."""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from agents.management.commands._policy_command import PolicyCommand
from agents.policy.cache import version_for
from agents.policy.schema import dump_text
from tenants.models import Tenant


class Command(PolicyCommand):
    help = "Write a merchant's returns policy (the version in force, or --version N) to stdout."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Merchant slug")
        parser.add_argument(
            "--version", type=int, help="Version number (default: the one in force)"
        )
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        version = version_for(tenant, options["version"])
        if version is None:
            which = (
                f"policy version {options['version']}" if options["version"] else "published policy"
            )
            raise CommandError(f"{tenant.slug} has no {which}")
        if options["format"] == "json":
            self.stdout.write(json.dumps(version.document, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(dump_text(version.document), ending="")
