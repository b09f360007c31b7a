"""Rebuild the intent model from the training data in agents/intent_data."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand

from agents import intents


class Command(BaseCommand):
    help = (
        "Train the intent classifier from agents/intent_data (fixed seed, so the same data "
        "gives the same model file) and report its accuracy on the held-out set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=intents.SEED)
        parser.add_argument(
            "--output", type=Path, default=intents.MODEL_PATH, help="Where to write the model JSON."
        )

    def handle(self, *args, seed: int, output: Path, **options):
        started = time.monotonic()
        examples = intents.load_training_data()
        model = intents.train(examples, seed=seed)
        intents.save_model(model, output, digest=intents.data_digest())
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Trained on {len(examples)} examples in {elapsed:.1f} s: "
            f"{len(model.weights)} features, temperature {model.temperature}, written to {output}"
        )
        # The held-out set never feeds training; this is only a report.
        report = intents.evaluate(model, intents.read_jsonl(intents.EVAL_PATH))
        self.stdout.write(
            f"Held-out ({report['n']} messages): accuracy {report['accuracy']:.3f}, "
            f"macro-F1 {report['macro_f1']:.3f}"
        )
