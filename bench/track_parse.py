"""Throughput of ``track_parse --jsonl`` on the UPS, FedEx, USPS and DHL samples.

Measures the command's per-line path (decode the request line, parse the
carrier payload, encode the normalized result) in-process, so the figure is
the parser's, not Python start-up's. The bar: 2x karrio's parser, which does
~8,000 UPS payloads/s on the reference machine."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import _django

FIXTURES = (
    Path(__file__).resolve().parent.parent / "tests" / "integrations" / "carriers" / "fixtures"
)
SAMPLES = [
    ("ups", "ups/TrackingResponseJSON.json"),
    ("fedex", "fedex/TrackingResponseXML.xml"),
    ("usps", "usps/usps__TrackingResponse.json"),
    ("dhl_express", "dhl_express/dhl_express__TrackingResponseXML.xml"),
]
TARGET = 16_000  # payloads/s
SECONDS = 2.0


def _rate(lines: list[str], parse_line) -> float:
    for line in lines:  # warm caches and imports
        parse_line(line)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        for line in lines:
            json.dumps(parse_line(line))
        done += len(lines)
    return done / (time.perf_counter() - start)


def run() -> list[dict]:
    _django.setup()
    from integrations.management.commands.track_parse import parse_line

    lines = {
        carrier: json.dumps({"carrier": carrier, "payload": (FIXTURES / path).read_text()})
        for carrier, path in SAMPLES
    }
    figures = []
    mixed = _rate(list(lines.values()), parse_line)
    figures.append(
        {
            "metric": "track_parse payloads/s (UPS+FedEx+USPS+DHL mix)",
            "value": round(mixed),
            "unit": "payloads/s",
            "target": TARGET,
            "pass": mixed >= TARGET,
        }
    )
    for carrier in lines:
        rate = _rate([lines[carrier]], parse_line)
        figures.append(
            {
                "metric": f"track_parse payloads/s ({carrier})",
                "value": round(rate),
                "unit": "payloads/s",
                "target": TARGET,
                "pass": rate >= TARGET,
            }
        )
    return figures
