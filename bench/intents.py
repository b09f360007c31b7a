"""Intent classifier: accuracy on the held-out realistic set and per-message latency.

The held-out messages are never used for training (agents/intent_data/README.md)."""

from __future__ import annotations

import time

from bench import _django

ACCURACY_TARGET = 0.85
MACRO_F1_TARGET = 0.85
P99_TARGET_MS = 5.0
ROUNDS = 20


def run() -> list[dict]:
    _django.setup()
    from agents import intents

    rows = intents.read_jsonl(intents.EVAL_PATH)
    model = intents.load_model()
    report = intents.evaluate(model, rows)

    intents.classify("warm up")
    timings = []
    for _ in range(ROUNDS):
        for row in rows:
            started = time.perf_counter()
            intents.classify(row["text"])
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = timings[len(timings) // 2]
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]

    confident = [(g == p) for g, p, c in report["pairs"] if c >= 0.70]
    n = report["n"]
    return [
        {
            "metric": f"held-out accuracy ({n} messages)",
            "value": round(report["accuracy"], 3),
            "unit": "",
            "target": f">= {ACCURACY_TARGET}",
            "pass": report["accuracy"] >= ACCURACY_TARGET,
        },
        {
            "metric": "held-out macro-F1",
            "value": round(report["macro_f1"], 3),
            "unit": "",
            "target": f">= {MACRO_F1_TARGET}",
            "pass": report["macro_f1"] >= MACRO_F1_TARGET,
        },
        {
            "metric": "accuracy when confidence >= 0.70",
            "value": round(sum(confident) / len(confident), 3) if confident else 0.0,
            "unit": f"({len(confident)} of {n} messages)",
            "target": ">= 0.95",
            "pass": bool(confident) and sum(confident) / len(confident) >= 0.95,
        },
        {
            "metric": "classify latency p50",
            "value": round(p50, 3),
            "unit": "ms",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": "classify latency p99",
            "value": round(p99, 3),
            "unit": "ms",
            "target": f"< {P99_TARGET_MS} ms",
            "pass": p99 < P99_TARGET_MS,
        },
    ]
