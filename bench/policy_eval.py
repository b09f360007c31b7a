"""Returns-policy evaluation speed: order lines per second on one core, 60-rule policy.

Evaluates a fixed, seeded mix of 20,000 order lines against the Northwind
apparel policy (the largest demo policy) in one process. The headline figure
includes building the full decision with its rule path and serialising it to
JSON, which is what policy_eval and the agent do with every line."""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from agents.policy.engine import CompiledPolicy, LineFacts
from agents.policy.schema import CONDITIONS, REASONS, parse_text

POLICY_FILE = Path(__file__).resolve().parent.parent / "agents/policy/demo/northwind-apparel.yaml"
LINES = 20_000
REPEATS = 3
TARGET = 10_000
AS_OF = date(2026, 1, 20)

CATALOGUE = [
    ("NW-PARKA-M", "outerwear", "289.00"),
    ("NW-BOOT-10", "footwear", "164.00"),
    ("NW-FLEECE-L", "tops", "79.00"),
    ("NW-PANT-32", "bottoms", "89.00"),
    ("NW-SOCK-3P", "accessories", "24.00"),
    ("NW-TENT-2", "gear", "349.00"),
    ("NW-BEANIE", "accessories", "22.00"),
    ("NW-BASE-M", "base_layer", "59.00"),
    ("NW-KEYRING", "accessories", "9.00"),
]
TAGS = [[], [], [], ["sale"], ["clearance"], ["limited-edition"], ["monogram"]]


def sample_lines(count: int, seed: int = 4) -> list[LineFacts]:
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        sku, product_type, price = rng.choice(CATALOGUE)
        ordered = AS_OF - timedelta(days=rng.randrange(0, 120))
        delivered = ordered + timedelta(days=rng.randrange(2, 8))
        lines.append(
            LineFacts(
                sku=sku,
                unit_price=Decimal(price),
                quantity=rng.choice([1, 1, 1, 2]),
                product_type=product_type,
                tags=frozenset(rng.choice(TAGS)),
                sales_channel=rng.choice(["online_store"] * 8 + ["amazon", "pos"]),
                country=rng.choice(["US"] * 9 + ["CA", "GB"]),
                is_vip=rng.random() < 0.08,
                ordered_at=ordered,
                fulfilled_at=ordered + timedelta(days=1),
                delivered_at=delivered if rng.random() < 0.9 else None,
                condition=rng.choice(CONDITIONS),
                reason=rng.choice(REASONS),
                is_final_sale=rng.random() < 0.05,
                is_hygiene=product_type == "base_layer",
                is_gift=rng.random() < 0.05,
                is_bundle=rng.random() < 0.03,
            )
        )
    return lines


def _rate(policy: CompiledPolicy, lines: list[LineFacts], full: bool) -> float:
    evaluate = policy.evaluate
    start = time.perf_counter()
    if full:
        for line in lines:
            json.dumps(evaluate(line, AS_OF).to_dict())
    else:
        for line in lines:
            evaluate(line, AS_OF)
    return len(lines) / (time.perf_counter() - start)


def run() -> list[dict]:
    document = parse_text(POLICY_FILE.read_text())
    policy = CompiledPolicy(document, currency="USD", time_zone="America/New_York", version=1)
    lines = sample_lines(LINES)
    _rate(policy, lines[:2000], full=True)  # warm up
    full = statistics.median(_rate(policy, lines, full=True) for _ in range(REPEATS))
    bare = statistics.median(_rate(policy, lines, full=False) for _ in range(REPEATS))
    considered = statistics.mean(len(policy.evaluate(line, AS_OF).steps) for line in lines)
    rules = len(policy.rules)
    return [
        {
            "metric": f"line evaluations/s, {rules}-rule policy, decision + rule path as JSON",
            "value": round(full),
            "unit": "lines/s",
            "target": TARGET,
            "pass": full >= TARGET,
        },
        {
            "metric": f"line evaluations/s, {rules}-rule policy, decision only",
            "value": round(bare),
            "unit": "lines/s",
            "target": TARGET,
            "pass": bare >= TARGET,
        },
        {
            "metric": "rules considered per line (mean)",
            "value": round(considered, 1),
            "unit": "rules",
            "target": rules,
            "pass": considered <= rules,
        },
    ]
