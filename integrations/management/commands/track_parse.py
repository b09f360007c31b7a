"""Parse a raw carrier tracking response into our normalized JSON.

    manage.py track_parse --carrier ups < response.json
    manage.py track_parse --jsonl < lines.jsonl   # {"carrier": ..., "payload": ...} per line

Single mode exits non-zero with a one-line reason when the payload is not
the carrier's format, or when the carrier answered not-found (exit 3) or an
error (exit 4); the normalized JSON is still printed for those two."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from integrations.carriers import registry
from integrations.carriers.payloads import MalformedPayload
from integrations.carriers.schema import Outcome

EXIT_NOT_FOUND = 3
EXIT_CARRIER_ERROR = 4


def parse_line(line: str) -> dict[str, Any]:
    """One JSONL request -> one JSON result; failures become {"error": ...} lines."""
    try:
        request = json.loads(line)
        carrier = request["carrier"]
        payload = request["payload"]
    except (ValueError, KeyError, TypeError):
        return {
            "outcome": "error",
            "error": {"code": "bad_request", "message": "expected {carrier, payload}"},
        }
    # A JSON carrier payload may be embedded as an object: it is handed to
    # the mapping as decoded, not serialised again only to be parsed again.
    if not isinstance(payload, (str, dict, list)):
        payload = json.dumps(payload)
    try:
        return registry.parse(carrier, payload).as_dict()
    except registry.UnknownCarrier as exc:
        return {
            "carrier": carrier,
            "outcome": "error",
            "error": {"code": "unknown_carrier", "message": str(exc)},
        }
    except MalformedPayload as exc:
        return {
            "carrier": carrier,
            "outcome": "error",
            "error": {"code": "malformed", "message": str(exc)},
        }


class Command(BaseCommand):
    help = "Normalize a raw carrier tracking response read from stdin."

    def add_arguments(self, parser):
        parser.add_argument("--carrier", help="carrier code (see track_carriers)")
        parser.add_argument("--jsonl", action="store_true", help='read {"carrier","payload"} lines')

    def handle(self, *args, carrier: str | None = None, jsonl: bool = False, **options):
        if jsonl:
            write = self.stdout.write
            for line in sys.stdin:
                if line.strip():
                    write(json.dumps(parse_line(line), ensure_ascii=False))
            return
        if not carrier:
            raise CommandError("--carrier is required (or use --jsonl)")
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("empty input: pipe one carrier response on stdin")
        try:
            result = registry.parse(carrier, raw)
        except registry.UnknownCarrier as exc:
            raise CommandError(str(exc)) from None
        except MalformedPayload as exc:
            raise CommandError(f"malformed {carrier} payload: {exc}") from None
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        if result.outcome != Outcome.FOUND:
            reason = " ".join(result.message.split())
            self.stderr.write(f"{result.outcome.replace('_', ' ')}: {reason}")
            sys.exit(EXIT_NOT_FOUND if result.outcome == Outcome.NOT_FOUND else EXIT_CARRIER_ERROR)
