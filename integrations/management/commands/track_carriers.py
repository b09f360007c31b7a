"""Supported carrier codes and what we can do with each."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from integrations.carriers.registry import CARRIERS


class Command(BaseCommand):
    help = "List supported carriers and their capabilities."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="machine-readable output"
        )

    def handle(self, *args, as_json: bool = False, **options):
        if as_json:
            self.stdout.write(json.dumps([c.as_dict() for c in CARRIERS], indent=2))
            return
        for carrier in CARRIERS:
            caps = carrier.capabilities
            self.stdout.write(f"{carrier.code:16} {carrier.name:32} {','.join(caps['formats'])}")
