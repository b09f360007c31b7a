"""Exactly-once effects under at-least-once, shuffled, concurrent delivery.

10,000 provider events (BENCH_EXACTLY_ONCE_EVENTS): Shopify order webhooks —
each order created, then updated twice, with ``X-Shopify-Triggered-At``
saying which is newest — and signed carrier scans, four per shipment. Every
event is delivered 1 to 9 times; all deliveries are shuffled together and
sent by eight threads at once through the real intake view, so copies of one
event often arrive side by side, and updates overtake creates. A Celery
worker (prefork, two processes) applies what the intake kept, as in
production.

Checked at the end: one accepted row per event and every other copy answered
as a duplicate, every event applied, every scan recorded once, every order
holding its newest state however the updates arrived — no duplicate effect,
nothing lost."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

EVENTS = int(os.environ.get("BENCH_EXACTLY_ONCE_EVENTS", "10000"))
THREADS = 8
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "integrations" / "shopify" / "fixtures" / "orders_create.json"
SHOP_SECRET = "bench-exactly-once-shop"
FEED_SECRET = "bench-exactly-once-feed"


def _order_events(count_orders: int, base_id: int) -> list[dict]:
    sample = json.loads(SAMPLE.read_text())
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    events = []
    for i in range(count_orders):
        order_id = base_id + i
        for version, topic in enumerate(("orders/create", "orders/updated", "orders/updated")):
            payload = dict(sample)
            payload.update(
                id=order_id,
                admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
                name=f"#X{order_id}",
                order_number=order_id,
                cancelled_at=None,
                email=f"v{version}-{order_id}@example.com",
            )
            events.append(
                {
                    "kind": "shopify",
                    "topic": topic,
                    "id": f"xo-{order_id}-{version}",
                    "body": json.dumps(payload).encode(),
                    "triggered_at": (start + timedelta(minutes=version)).strftime(
                        "%Y-%m-%dT%H:%M:%S.000000Z"
                    ),
                }
            )
    return events


def _scan_events(shipments: list, base: datetime) -> list[dict]:
    steps = [
        ("info_received", "MP", "Shipper created a label"),
        ("in_transit", "AR", "Arrived at facility"),
        ("in_transit", "DP", "Departed facility"),
        ("out_for_delivery", "OFD", "Out for delivery"),
    ]
    events = []
    for shipment in shipments:
        for n, (status, code, text) in enumerate(steps):
            payload = {
                "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number,
                "occurred_at": (base + timedelta(hours=n)).isoformat(),
                "status": status,
                "description": text,
                "code": code,
                "city": "Louisville",
                "country": "US",
            }
            events.append(
                {
                    "kind": "scan",
                    "topic": "tracking/scan",
                    "id": f"xs-{shipment.pk}-{n}",
                    "body": json.dumps(payload).encode(),
                }
            )
    return events


def _start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "desk",
            "worker",
            "-Q",
            "intake,agents,nudges",
            "--concurrency",
            "2",
            "--loglevel",
            "ERROR",
            "--without-mingle",
            "--without-gossip",
        ],
        env={**os.environ, "DB_CONN_MAX_AGE": "60"},
        cwd=ROOT,
        start_new_session=True,
    )


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from django.db import connection as db_connection
    from django.test import RequestFactory

    from integrations import webhooks
    from integrations.models import Connection, Order, Shipment, TrackingEvent, WebhookEvent
    from tests.factories import make_order, make_tenant

    stamp = int(time.time())
    tenant = make_tenant(f"bench-once-{stamp}", name="Bench exactly once")
    shop = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Shopify",
        credentials={
            "shop": "once.myshopify.com",
            "access_token": "shpat_once",
            "webhook_secret": SHOP_SECRET,
        },
    )
    feed = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SANDBOX_CARRIER,
        kind=Connection.Kind.CARRIER,
        name="Carrier feed",
        credentials={"webhook_secret": FEED_SECRET},
    )
    scans = EVENTS * 2 // 5  # 40% carrier scans, four per shipment
    orders = (EVENTS - scans) // 3
    shipment_count = scans // 4
    shipments = [
        make_order(tenant, shipment_status="in_transit").shipments.get()
        for _ in range(shipment_count)
    ]
    events = _order_events(orders, 8_000_000_000 + stamp % 100_000 * 10_000)
    # Newer than the scan each shipment starts with (a day ago).
    events += _scan_events(shipments, datetime.now(UTC) - timedelta(hours=20))
    rng = random.Random(3)
    deliveries = [event for event in events for _ in range(rng.randint(1, 9))]
    rng.shuffle(deliveries)

    factory = RequestFactory()
    answers: Counter = Counter()
    lock = threading.Lock()

    def deliver(event: dict) -> None:
        body = event["body"]
        if event["kind"] == "shopify":
            path = f"/webhooks/shopify/{shop.public_id}"
            headers = {
                "X-Shopify-Topic": event["topic"],
                "X-Shopify-Hmac-Sha256": webhooks.sign(SHOP_SECRET, body),
                "X-Shopify-Webhook-Id": event["id"],
                "X-Shopify-Triggered-At": event["triggered_at"],
            }
            provider, connection_id = "shopify", str(shop.public_id)
        else:
            path = f"/webhooks/sandbox_carrier/{feed.public_id}"
            headers = {
                "X-Desk-Topic": event["topic"],
                "X-Desk-Hmac-Sha256": webhooks.sign(FEED_SECRET, body),
                "X-Desk-Webhook-Id": event["id"],
            }
            provider, connection_id = "sandbox_carrier", str(feed.public_id)
        request = factory.post(path, data=body, content_type="application/json", headers=headers)
        try:
            response = webhooks.receive(request, provider, connection_id)
            answer = json.loads(response.content).get("status", str(response.status_code))
        finally:
            db_connection.close()
        with lock:
            answers[answer] += 1

    worker = _start_worker()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(deliver, deliveries))
        offered = time.monotonic() - started
        deadline = time.monotonic() + 600
        connections = [shop, feed]
        while time.monotonic() < deadline:
            waiting = WebhookEvent.objects.filter(
                connection__in=connections, status=WebhookEvent.Status.RECEIVED
            ).count()
            if not waiting:
                break
            time.sleep(1)
        settled = time.monotonic() - started
    finally:
        worker.kill()
        worker.wait()

    kept = WebhookEvent.objects.filter(connection__in=[shop, feed])
    by_status = Counter(kept.values_list("status", flat=True))
    accepted = kept.count()
    distinct = kept.values("connection", "delivery_id").distinct().count()
    # The scans sent (each shipment also starts with one of its own, "X1").
    recorded_scans = TrackingEvent.objects.filter(
        shipment__in=shipments, carrier_code__in=["MP", "AR", "DP", "OFD"]
    )
    scan_rows = recorded_scans.count()
    distinct_scans = recorded_scans.values("shipment", "carrier_code").distinct().count()
    mirrored = Order.objects.filter(connection=shop)
    newest = sum(1 for email in mirrored.values_list("email", flat=True) if email.startswith("v2-"))
    moved = Shipment.objects.filter(pk__in=[s.pk for s in shipments], status="out_for_delivery")
    total = len(events)
    return [
        {
            "metric": f"events accepted once ({total} events, {len(deliveries)} deliveries "
            f"1-9× each, shuffled, {THREADS} threads)",
            "value": f"{accepted} ({distinct} distinct)",
            "unit": "rows",
            "target": f"{total}",
            "pass": accepted == distinct == total,
        },
        {
            "metric": "copies answered as duplicates",
            "value": answers.get("duplicate", 0),
            "unit": "answers",
            "target": f"{len(deliveries) - total}",
            "pass": answers.get("duplicate", 0) == len(deliveries) - total
            and answers.get("accepted", 0) == total,
        },
        {
            "metric": "events applied / failed / still waiting",
            "value": f"{by_status.get('processed', 0)} / {by_status.get('failed', 0)} / "
            f"{by_status.get('received', 0)}",
            "unit": "events",
            "target": f"{total} / 0 / 0",
            "pass": by_status.get("processed", 0) == total,
        },
        {
            "metric": "carrier scans recorded (duplicates would add rows)",
            "value": f"{scan_rows} rows, {distinct_scans} distinct",
            "unit": "scans",
            "target": f"{scans}",
            "pass": scan_rows == distinct_scans == scans and moved.count() == len(shipments),
        },
        {
            "metric": "orders mirrored holding their newest update",
            "value": f"{newest}/{mirrored.count()}",
            "unit": "orders",
            "target": f"{orders}/{orders}",
            "pass": newest == mirrored.count() == orders,
        },
        {
            "metric": "deliveries per second through the intake / all applied after",
            "value": f"{round(len(deliveries) / offered)} / {round(settled, 1)} s",
            "unit": "",
            "target": "informational",
            "pass": True,
        },
    ]
