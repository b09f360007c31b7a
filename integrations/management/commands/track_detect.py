"""Candidate carriers for a tracking number, as JSON (strongest first)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from integrations.carriers.detect import detect


class Command(BaseCommand):
    help = "Detect which carriers a tracking number may belong to."

    def add_arguments(self, parser):
        parser.add_argument("number")

    def handle(self, *args, number: str, **options):
        candidates = [c.as_dict() for c in detect(number)]
        self.stdout.write(json.dumps({"number": number, "candidates": candidates}, indent=2))
