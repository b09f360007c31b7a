"""Evaluate order-line facts against a merchant's returns policy: JSON lines in and out."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import CommandError

from agents.management.commands._policy_command import PolicyCommand
from agents.policy.cache import compiled_policy
from agents.policy.engine import FactsError, facts_from_json, parse_moment
from tenants.models import Tenant


class Command(PolicyCommand):
    help = (
        "Read JSON lines of order-line facts on stdin, write one JSON line per input with the "
        "outcome, amounts, currency, rule id and policy version. A malformed line gets an "
        "error line and the rest go on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Merchant slug")
        parser.add_argument(
            "--version", type=int, help="Policy version (default: the one in force)"
        )
        parser.add_argument("--as-of", help="Evaluate as on this ISO date (default: today)")
        parser.add_argument("--explain", action="store_true", help="Include the rule path")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {options['tenant']!r}")
        policy = compiled_policy(tenant, options["version"])
        if policy is None:
            which = (
                f"policy version {options['version']}" if options["version"] else "published policy"
            )
            raise CommandError(f"{tenant.slug} has no {which}")
        try:
            default_as_of = parse_moment("as_of", options["as_of"])
        except FactsError as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout
        for number, raw in enumerate(sys.stdin, start=1):
            if not raw.strip():
                continue
            result = self._one(policy, raw, number, default_as_of, options["explain"])
            out.write(json.dumps(result, ensure_ascii=False))

    def _one(self, policy, raw: str, number: int, default_as_of, explain: bool) -> dict[str, Any]:
        result: dict[str, Any] = {"line": number}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return {**result, "error": f"not valid JSON: {exc.msg}", "field": None}
        if isinstance(data, dict) and "id" in data:
            result["id"] = data["id"]
        try:
            facts, as_of = facts_from_json(data)
            decision = policy.evaluate(facts, as_of or default_as_of)
        except FactsError as exc:
            return {**result, "error": str(exc), "field": exc.field}
        return {**result, **decision.to_dict(explain=explain)}
