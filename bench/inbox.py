"""Inbox and decision packet server time at desk scale.

Loads BENCH_TENANTS × BENCH_CONTACTS contacts with BENCH_OPEN open escalations
(default 20 × 50,000 = 1M contacts, 10,000 open; `manage.py seed_load`, reused
on later runs) and times the views through Django's request handler as a
specialist who works all the tenants: the inbox's first page, a filtered and
searched page, a deep keyset page, and decision packets of random escalations."""

from __future__ import annotations

import os
import random
import re
import statistics
import time

TENANTS = int(os.environ.get("BENCH_TENANTS", "20"))
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "50000"))
OPEN = int(os.environ.get("BENCH_OPEN", "10000"))
RUNS = int(os.environ.get("BENCH_RUNS", "100"))


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _time(client, url: str, params: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.get(url, params or {})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed * 1000


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from desk.models import Contact
    from tenants.models import User

    call_command("seed_load", tenants=TENANTS, contacts_per_tenant=CONTACTS, open_escalations=OPEN)
    total = Contact.objects.filter(tenant__slug__startswith="load-").count()
    open_ids = list(
        Contact.objects.filter(tenant__slug__startswith="load-", status="escalated").values_list(
            "public_id", flat=True
        )
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(email="load-specialist@example.com"))
    inbox = reverse("desk:inbox")
    for _ in range(5):  # warm caches and connections
        _time(client, inbox)

    rng = random.Random(11)
    first_page = [_time(client, inbox) for _ in range(RUNS)]
    filtered = [
        _time(
            client,
            inbox,
            {"intent": "refund_request", "band": "200-500", "q": f"L{rng.randrange(1, 500)}"},
        )
        for _ in range(RUNS)
    ]

    def next_cursor(params: dict) -> str | None:
        match = re.search(
            r'after=([^"&]+)" id="next-page"', client.get(inbox, params).content.decode()
        )
        return match.group(1) if match else None

    deep_cursor = next_cursor({})
    for _ in range(4):
        deep_cursor = next_cursor({"after": deep_cursor}) or deep_cursor
    deep = [_time(client, inbox, {"after": deep_cursor}) for _ in range(RUNS)]
    packets = [
        _time(client, reverse("desk:contact", kwargs={"contact_id": rng.choice(open_ids)}))
        for _ in range(RUNS)
    ]
    scale = f"{total:,} contacts, {len(open_ids):,} open, {TENANTS} tenants"

    def figure(name: str, values: list[float]) -> dict:
        p95 = _p95(values)
        return {
            "metric": f"{name} p95 ({scale})",
            "value": round(p95, 1),
            "unit": "ms",
            "target": "≤ 100 ms",
            "pass": p95 <= 100,
            "median": round(statistics.median(values), 1),
        }

    return [
        figure("inbox first page", first_page),
        figure("inbox filtered + searched", filtered),
        figure("inbox 6th keyset page", deep),
        figure("decision packet", packets),
    ]
