from __future__ import annotations

import random
import time

from django.core.management.base import BaseCommand

from desk import demo


class Command(BaseCommand):
    help = "Produce a realistic stream of contacts and carrier scans for the demo tenants."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--count", type=int, default=0, help="Contacts to send; 0 runs until stopped."
        )
        parser.add_argument("--interval", type=float, default=6.0, help="Seconds between contacts.")
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed for a repeatable stream."
        )

    def handle(self, *args, count: int, interval: float, seed: int | None, **options) -> None:
        rng = random.Random(seed)
        sent = 0
        while count == 0 or sent < count:
            self.stdout.write(demo.simulate_one(rng))
            if rng.random() < 0.5 and (moved := demo.advance_one_shipment(rng)):
                self.stdout.write(f"scan: {moved}")
            sent += 1
            if count == 0 or sent < count:
                time.sleep(interval)
