"""Run agent evaluation scenarios: JSON lines in a file → one JSON line per run and a summary.

Usage: python manage.py agent_eval agents/eval/scenarios.jsonl [--repeat K] [--only PREFIX]

Scenarios build their own throwaway merchant and order and are rolled back.
With LLM_BASE_URL set the LLM planner runs; --repeat K gives pass^K."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from agents.eval.runner import run_scenario, summarise


class Command(BaseCommand):
    help = "Evaluate the agent on a scenario file; prints per-scenario JSON lines and a summary."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--repeat", type=int, default=1, help="Runs per scenario (pass^k).")
        parser.add_argument("--only", default="", help="Only scenarios whose id starts so.")

    def handle(self, *args, file: str, repeat: int, only: str, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"No such file: {file}")
        scenarios = []
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                scenario = json.loads(line)
            except ValueError as exc:
                raise CommandError(f"Line {number}: not JSON ({exc})") from exc
            if not scenario["id"].startswith(only):
                continue
            scenarios.append(scenario)
        results = []
        for index, scenario in enumerate(scenarios):
            for _ in range(max(repeat, 1)):
                result = run_scenario(scenario, index)
                results.append(result)
                self.stdout.write(json.dumps(result))
        self.stdout.write(json.dumps(summarise(results, max(repeat, 1))))
