"""Classify customer messages given as JSON lines on stdin."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from agents import intents


class Command(BaseCommand):
    help = (
        'Read JSON lines {"id", "text"} on stdin and write {"id", "intent", "confidence"} per '
        'line. A malformed line gets {"id", "error"} and the rest are still classified.'
    )
    # Lets tests pass a stream through call_command(stdin=...).
    stealth_options = ("stdin",)

    def handle(self, *args, **options):
        stream = options.get("stdin") or sys.stdin
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            self.stdout.write(json.dumps(classify_line(line, number), ensure_ascii=False))
            self.stdout.flush()


def classify_line(line: str, number: int) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: invalid JSON: {exc.msg}"}
    if not isinstance(row, dict):
        return {"id": None, "error": f"line {number}: expected a JSON object"}
    row_id = row.get("id")
    text = row.get("text")
    if not isinstance(text, str):
        return {"id": row_id, "error": f'line {number}: "text" must be a string'}
    result = intents.classify(text)
    return {"id": row_id, "intent": str(result.intent), "confidence": result.confidence}
