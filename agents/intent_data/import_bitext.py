"""Rebuild ``bitext/subset.jsonl`` from the Bitext sample CSV.

Usage: python agents/intent_data/import_bitext.py BITEXT_CSV

Run once by hand when the mapping changes; training only reads the JSONL this
writes, so the project never needs the CSV at run or test time. The output is
deterministic: same CSV and mapping, same file.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "bitext" / "subset.jsonl"

# Bitext intent -> our intent. Every row of these intents is kept.
MAPPED = {
    "track_order": "wismo",
    "delivery_period": "wismo",
    "get_refund": "refund_request",
    "track_refund": "refund_request",
    "cancel_order": "cancel_order",
    "change_shipping_address": "change_address",
}

# Intents that are none of ours: a sample of each becomes "other", so the
# model learns what off-topic contacts look like without drowning our intents.
OTHER = [
    "check_invoice",
    "check_payment_methods",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "edit_account",
    "get_invoice",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "switch_account",
]
OTHER_PER_INTENT = 40

# Left out on purpose: they share the vocabulary of one of our intents but ask
# something else (a policy question, a fee, an edit before purchase), so any
# label we gave them would teach the model the wrong boundary.
#   check_refund_policy, check_cancellation_fee, set_up_shipping_address, change_order

SEED = 20240605


def main(csv_path: str) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = " ".join(row["instruction"].split())
            key = text.lower()
            if not text or key in seen:
                continue
            seen.add(key)
            by_intent[row["intent"]].append(text)

    rng = random.Random(SEED)
    rows = []
    for source in sorted(MAPPED):
        rows += [
            {"text": t, "intent": MAPPED[source], "source_intent": source}
            for t in by_intent[source]
        ]
    for source in OTHER:
        texts = sorted(by_intent[source])
        picked = rng.sample(texts, min(OTHER_PER_INTENT, len(texts)))
        rows += [{"text": t, "intent": "other", "source_intent": source} for t in sorted(picked)]

    with OUTPUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {OUTPUT.name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
