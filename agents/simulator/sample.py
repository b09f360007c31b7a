"""Sample ticket exports for the simulator, built from the intent training messages.

``python -m agents.simulator.sample`` rewrites sample_tickets.csv (deterministic).
The messages are the project's intent data (Bitext subset and our own examples,
CDLA-Sharing-1.0, see agents/intent_data/PROVENANCE.md); the order facts around
them are made up to fit each intent. The mix follows a post-purchase desk:
about 55% where-is-my-order and delivery problems, then returns and refunds."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "intent_data"
OUT = Path(__file__).resolve().parent / "sample_tickets.csv"
COLUMNS = (
    "ticket_id",
    "created_at",
    "channel",
    "customer_email",
    "subject",
    "body",
    "order_number",
    "order_total",
    "currency",
    "order_status",
    "tracking_status",
    "delivered_at",
    "line_items",
)
MIX = {
    "wismo": 45,
    "delivery_exception": 10,
    "return_request": 14,
    "refund_request": 10,
    "replacement_request": 5,
    "cancel_order": 5,
    "change_address": 5,
    "other": 6,
}
SUBJECTS = {
    "wismo": "Where is my order?",
    "delivery_exception": "Problem with my delivery",
    "return_request": "Return",
    "refund_request": "Refund",
    "replacement_request": "Damaged item",
    "cancel_order": "Cancel my order",
    "change_address": "Change of address",
    "other": "Question",
}
SKUS = (
    "TEE-M:1:24.00",
    "HOODIE-L:1:59.00",
    "CAP:2:15.00",
    "SNEAKER-42:1:89.00",
    "SOCKS-3P:1:12.00",
)
START = datetime(2026, 3, 2, 8, 0)


def _messages() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for name in ("bitext/subset.jsonl", "own_examples.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            by_intent.setdefault(row["intent"], []).append(row["text"])
    return by_intent


def build_rows(count: int, *, seed: int = 7, days: int = 14) -> list[dict[str, str]]:
    """``count`` tickets spread over ``days`` days, in the intent mix above."""
    rng = random.Random(seed)
    messages = _messages()
    intents = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    rows = []
    for n, intent in enumerate(intents, start=1):
        created = START + timedelta(minutes=rng.randrange(days * 24 * 60))
        items = rng.sample(SKUS, rng.choice((1, 1, 2)))
        total = sum(int(i.split(":")[1]) * float(i.split(":")[2]) for i in items)
        row = {
            "ticket_id": f"T-{10000 + n}",
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S"),
            "channel": rng.choice(("email", "email", "email", "chat", "form", "whatsapp")),
            "customer_email": f"customer{n}@example.com",
            "subject": SUBJECTS[intent],
            "body": rng.choice(messages[intent]),
            "order_number": str(40000 + n) if rng.random() < 0.8 else "",
            "order_total": f"{total:.2f}",
            "currency": "USD",
            "order_status": "fulfilled",
            "tracking_status": "",
            "delivered_at": "",
            "line_items": "; ".join(items),
        }
        if intent == "wismo":
            row["tracking_status"] = rng.choice(
                ("in_transit", "in_transit", "out_for_delivery", "info_received", "delivered")
            )
        elif intent == "delivery_exception":
            row["tracking_status"] = rng.choice(("exception", "failed_attempt", "expired"))
        elif intent in ("return_request", "refund_request", "replacement_request"):
            row["delivered_at"] = (created - timedelta(days=rng.randrange(2, 40))).strftime(
                "%Y-%m-%d"
            )
        elif intent in ("cancel_order", "change_address"):
            row["order_status"] = rng.choice(("unfulfilled", "unfulfilled", "fulfilled"))
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


if __name__ == "__main__":
    OUT.write_text(to_csv(build_rows(60)), encoding="utf-8")
    print(f"wrote {OUT.name}")
