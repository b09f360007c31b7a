"""Shopify webhook intake under load on the real stack.

Starts the desk's ASGI application under uvicorn on loopback and offers
signed ``orders/create`` deliveries (Shopify's documented sample order, each
with its own order id, number and webhook id) at a fixed rate, open loop:
each request is sent at its scheduled time whether or not earlier ones
have been answered, so a slow server shows up as latency instead of
quietly lowering the rate. Measures, per request, the time until the 200
(verified, kept raw, de-duplicated, acknowledged), then how long the intake
worker takes to apply (mirror) everything that was acknowledged.

Bounded: BENCH_WEBHOOK_REQUESTS requests (default 2000) at BENCH_WEBHOOK_RATE
per second (default 200), loopback only, after BENCH_WEBHOOK_WARMUP_SECONDS
(default 3) at the same rate that are not measured: the figures describe a
server in service, not one answering its first requests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REQUESTS = int(os.environ.get("BENCH_WEBHOOK_REQUESTS", "2000"))
RATE = float(os.environ.get("BENCH_WEBHOOK_RATE", "200"))
WARMUP = round(RATE * float(os.environ.get("BENCH_WEBHOOK_WARMUP_SECONDS", "3")))
CONCURRENCY = int(os.environ.get("BENCH_WEBHOOK_CONCURRENCY", "24"))
WORKERS = int(os.environ.get("BENCH_WEBHOOK_WORKERS", str(os.cpu_count() or 2)))
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "integrations" / "shopify" / "fixtures" / "orders_create.json"
SECRET = "bench-webhook-secret"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bodies(count: int, start: int) -> list[bytes]:
    sample = json.loads(SAMPLE.read_text())
    bodies = []
    for i in range(count):
        payload = dict(sample)
        payload["id"] = start + i
        payload["admin_graphql_api_id"] = f"gid://shopify/Order/{start + i}"
        payload["name"] = f"#B{start + i}"
        payload["order_number"] = start + i
        payload["cancelled_at"] = None
        bodies.append(json.dumps(payload).encode())
    return bodies


async def _offer(url: str, bodies: list[bytes], sign) -> tuple[list[float], dict[int, int]]:
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)
    latencies: list[float] = []
    answered: list[float] = []
    statuses: dict[int, int] = {}
    # Bounded so a slow server cannot open more database connections than a
    # shared PostgreSQL allows; requests beyond it wait client-side, and that
    # wait counts (latency runs from each request's scheduled time).
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:

        async def one(i: int, body: bytes, scheduled: float, measured: bool = True) -> None:
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sign(SECRET, body),
                "X-Shopify-Shop-Domain": "bench.myshopify.com",
                "X-Shopify-API-Version": "2026-07",
                "X-Shopify-Webhook-Id": f"bench-{time.time_ns()}-{i}",
                "X-Shopify-Triggered-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            if not measured:
                return
            latencies.append(time.perf_counter() - scheduled)
            if status == 200:
                answered.append(time.perf_counter())
            statuses[status] = statuses.get(status, 0) + 1

        async def offer(batch: list[bytes], measured: bool) -> tuple[float, float, int]:
            started = time.perf_counter()
            tasks = []
            for i, body in enumerate(batch):
                scheduled = started + i / RATE
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, body, scheduled, measured)))
            offered = time.perf_counter() - started
            # Bounded: whatever is still unanswered long after the last send failed.
            _, pending = await asyncio.wait(tasks, timeout=30)
            for task in pending:
                task.cancel()
            return started, offered, len(pending)

        # The same rate for a few seconds first, unmeasured: a server in service
        # is warm (connections open, first-request paths run, the intake worker
        # busy), and that steady state is what the figures describe.
        await offer(_bodies(WARMUP, 9_000_000_000 + int(time.time()) % 1_000_000 * 1000), False)
        started, offered, unanswered = await offer(bodies, True)
        statuses[0] = statuses.get(0, 0) + unanswered
    statuses[-1] = round(len(bodies) / offered)  # achieved offered rate, requests/s
    # What the server actually sustained: answers per second over the run.
    statuses[-2] = round(len(answered) / (max(answered) - started)) if answered else 0
    return latencies, statuses


def run() -> list[dict]:
    from bench._django import production_env, setup

    setup()
    from integrations.models import Connection
    from integrations.webhooks import sign
    from tenants.models import Tenant
    from tests.factories import make_tenant

    Tenant.objects.filter(slug="bench-webhooks").update(
        slug=f"bench-webhooks-old-{int(time.time())}", is_active=False
    )
    tenant = make_tenant("bench-webhooks", name="Bench webhooks")
    connection = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Bench Shopify",
        credentials={
            "shop": "bench.myshopify.com",
            "access_token": "shpat_bench",
            "webhook_secret": SECRET,
        },
    )
    port = _free_port()
    # The intake worker applies what the web kept, as in production, on the
    # same two cores, at the lower CPU priority every worker takes
    # (WORKER_NICENESS), so acknowledging never waits behind mirroring.
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "desk",
            "worker",
            "-Q",
            "intake",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        env=production_env(DB_CONN_MAX_AGE="60"),
        cwd=ROOT,
    )
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "desk.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "off",
        ],
        # As `make run` starts the web: connections from a per-process pool.
        env=production_env(DB_POOL_MAX_SIZE="10"),
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/webhooks/shopify/{connection.public_id}"
        bodies = _bodies(REQUESTS, 7_000_000_000 + int(time.time()) % 1_000_000 * 1000)
        latencies, statuses = asyncio.run(_offer(url, bodies, sign))
        from integrations.models import WebhookEvent

        # Until every kept delivery is applied (bounded).
        drained_at = time.monotonic()
        while time.monotonic() - drained_at < 180:
            if not WebhookEvent.objects.filter(
                connection=connection, status=WebhookEvent.Status.RECEIVED
            ).exists():
                break
            time.sleep(1)
        applied_after = time.monotonic() - drained_at
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    achieved = statuses.pop(-1)
    served = statuses.pop(-2)
    ok = statuses.get(200, 0)
    from integrations.models import Order, WebhookEvent

    kept = WebhookEvent.objects.filter(connection=connection, topic="orders/create").count()
    mirrored = Order.objects.filter(connection=connection).count()
    p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    label = (
        f"{REQUESTS} signed orders/create at {RATE:g}/s after {WARMUP} unmeasured, "
        f"{WORKERS} uvicorn workers"
    )
    return [
        {
            "metric": f"webhook verify+store+ack p50 ({label})",
            "value": round(p50 * 1000, 1),
            "unit": "ms",
            "target": "≤ 50 ms",
            "pass": p50 <= 0.05,
        },
        {
            "metric": f"webhook verify+store+ack p99 ({label})",
            "value": round(p99 * 1000, 1),
            "unit": "ms",
            "target": "≤ 50 ms",
            "pass": p99 <= 0.05,
        },
        {
            "metric": "slowest webhook acknowledgement",
            "value": round(max(latencies) * 1000, 1),
            "unit": "ms",
            "target": "< 5000 ms (Shopify's timeout)",
            "pass": max(latencies) < 5,
        },
        {
            "metric": "rate actually offered",
            "value": achieved,
            "unit": "requests/s",
            "target": f"≥ {RATE * 0.95:g} requests/s",
            "pass": achieved >= RATE * 0.95,
        },
        {
            "metric": "deliveries acknowledged per second (sustained)",
            "value": served,
            "unit": "requests/s",
            "target": f"≥ {RATE * 0.95:g} requests/s",
            "pass": served >= RATE * 0.95,
        },
        {
            "metric": "seconds after the last acknowledgement until every delivery was applied",
            "value": round(applied_after, 1),
            "unit": "s",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": "deliveries answered 200 / kept raw / mirrored",
            "value": f"{ok}/{kept - WARMUP}/{mirrored - WARMUP}",
            "unit": f"of {REQUESTS}",
            "target": "all",
            "pass": ok == REQUESTS and kept - WARMUP == REQUESTS and mirrored - WARMUP == REQUESTS,
        },
    ]
