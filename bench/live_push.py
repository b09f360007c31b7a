"""Live push at desk scale: commit → swap message on every connected inbox.

Starts the real ASGI server (uvicorn, its own process) and opens
BENCH_SOCKETS websocket clients (default 200) as specialists spread over
BENCH_PUSH_TENANTS tenants (default 20), each with its own session. Then it
escalates BENCH_PUSHES contacts one after another (default 100) and, for every
client of that tenant, measures the time from the escalation's commit to the
message carrying that contact arriving. Any message reaching a client of
another tenant is counted as a leak.

Then the storm: more escalations while connections are cut at random
without a closing handshake and a quarter of the tenants are flooded with
more pushes than a channel holds, so the layer drops messages. Clients do
what the page's script does (keep pushed rows; re-fetch the list on
reconnect and on a resync notice, which the server sends when the numbered
pushes show a gap) and no escalation may be missed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

SOCKETS = int(os.environ.get("BENCH_SOCKETS", "200"))
TENANTS = int(os.environ.get("BENCH_PUSH_TENANTS", "20"))
PUSHES = int(os.environ.get("BENCH_PUSHES", "100"))
DISRUPTED_PUSHES = int(os.environ.get("BENCH_DISRUPTED_PUSHES", "60"))
# Filler pushes per flooded tenant: more than a channel's capacity (500).
FLOOD = int(os.environ.get("BENCH_FLOOD", "1500"))
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare():
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models.functions import Now

    from desk.models import Contact
    from tenants.models import Membership, Tenant, User
    from tenants.roles import Role
    from tests.factories import make_tenant

    tenants = []
    for i in range(1, TENANTS + 1):
        tenant = Tenant.objects.filter(slug=f"push-{i:02d}").first() or make_tenant(
            f"push-{i:02d}", name=f"Push {i:02d}"
        )
        tenants.append(tenant)
    # Each run starts with empty inboxes: an earlier run's escalations would push
    # this run's off the list's first page, which is what a client re-fetches.
    Contact.objects.filter(tenant__in=tenants).exclude(status=Contact.Status.RESOLVED).update(
        status=Contact.Status.RESOLVED, resolution=Contact.Resolution.HUMAN, resolved_at=Now()
    )
    clients = []  # (tenant index, cookie)
    for n in range(SOCKETS):
        index = n % TENANTS
        # One user per (layout, socket): a viewer belongs to exactly one tenant.
        email = f"push-viewer-{TENANTS}t-{n}@example.com"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, "push-pass-2026"
        )
        Membership.objects.get_or_create(
            user=user, tenant=tenants[index], defaults={"role": Role.SPECIALIST}
        )
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        clients.append((index, f"{settings.SESSION_COOKIE_NAME}={session.session_key}"))
    return tenants, clients


def _escalate(tenant):
    from django.db import transaction

    from desk.actions import ProposalDraft, submit_proposal
    from desk.models import Proposal
    from tenants.actor import Actor
    from tests.factories import make_contact, make_customer, make_order

    customer = make_customer(tenant, email=f"{uuid.uuid4().hex}@push.example")
    order = make_order(
        tenant,
        total="300.00",
        customer=customer,
        number=uuid.uuid4().hex[:12],
        shipment_status=None,
    )
    contact = make_contact(tenant, order=order, subject="Refund for a parka")
    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs first on commit: the clock starts at the
        # commit, before the push that the escalation schedules.
        transaction.on_commit(lambda: committed.append(time.time()))
        submit_proposal(
            contact,
            ProposalDraft(
                kind=Proposal.Kind.REFUND,
                amount=Decimal("300"),
                currency="USD",
                reply_draft="",
                confidence=Decimal("0.9"),
                rationale="",
            ),
            guardrails=[{"name": "within_auto_limit", "passed": False, "detail": "above limit"}],
            actor=Actor.agent(),
        )
    return str(contact.public_id), committed[0]


async def _measure(port: int, tenants, clients) -> tuple[list[float], int, int]:
    from websockets.asyncio.client import connect

    received: list[dict[str, float]] = [{} for _ in clients]
    connections = []
    for _, cookie in clients:
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/inbox/",
            additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
            open_timeout=20,
        )
        connections.append(ws)

    async def listen(n: int, ws) -> None:
        async for message in ws:
            text = message if isinstance(message, str) else message.decode()
            start = text.find('id="contact-', text.find("beforeend"))
            if start >= 0:
                public_id = text[start + len('id="contact-') : start + len('id="contact-') + 36]
                received[n].setdefault(public_id, time.time())

    listeners = [asyncio.create_task(listen(n, ws)) for n, ws in enumerate(connections)]
    await asyncio.sleep(1.0)  # let every socket join its groups
    sent: list[tuple[int, str, float]] = []
    for push in range(PUSHES):
        index = push % TENANTS
        public_id, committed = await asyncio.to_thread(_escalate, tenants[index])
        sent.append((index, public_id, committed))
        await asyncio.sleep(0.05)
    await asyncio.sleep(3.0)
    for task in listeners:
        task.cancel()
    for ws in connections:
        await ws.close()
    latencies, missing, leaks = [], 0, 0
    for index, public_id, committed in sent:
        for n, (client_tenant, _) in enumerate(clients):
            got = received[n].get(public_id)
            if client_tenant == index:
                if got is None:
                    missing += 1
                else:
                    latencies.append((got - committed) * 1000)
            elif got is not None:
                leaks += 1
    return latencies, missing, leaks


ID_PATTERN = re.compile(r'id="contact-([0-9a-f-]{36})"')


def _flood(tenant_id: int, count: int) -> None:
    """Numbered filler pushes as fast as the layer takes them: more than a
    channel holds, so the layer drops some for every socket of the tenant."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from desk.live import inbox_group, next_seq

    layer = get_channel_layer()
    for _ in range(count):
        async_to_sync(layer.group_send)(
            inbox_group(tenant_id),
            {
                "type": "inbox.push",
                "html": '<div id="live-filler"></div>',
                "tenant": tenant_id,
                "seq": next_seq(tenant_id),
            },
        )


async def _disrupt(port: int, tenants, clients) -> dict:
    """Escalations while sockets are cut and channels overflow, with clients
    behaving as the page's script does: a pushed row is kept, a reconnect
    or a resync notice re-fetches the inbox list. Counts escalations a client
    never saw by either way."""
    import httpx
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    rng = random.Random(9)
    seen: list[set[str]] = [set() for _ in clients]
    stats = {
        "cuts": 0,
        "resync_notices": 0,
        "fetches": 0,
        "fillers": 0,
        "failed_connects": 0,
        "failed_fetches": 0,
    }
    sockets: dict[int, object] = {}
    pending: set[asyncio.Task] = set()
    stop = asyncio.Event()
    http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)

    async def fetch(n: int) -> None:
        try:
            response = await http.get("/inbox/", headers={"Cookie": clients[n][1]})
        except httpx.HTTPError:
            response = None
        if response is None or response.status_code != 200:
            stats["failed_fetches"] += 1
            return
        seen[n].update(ID_PATTERN.findall(response.text))
        stats["fetches"] += 1

    async def client(n: int) -> None:
        first = True
        while not stop.is_set():
            try:
                ws = await connect(
                    f"ws://127.0.0.1:{port}/ws/inbox/",
                    additional_headers={
                        "Cookie": clients[n][1],
                        "Origin": f"http://127.0.0.1:{port}",
                    },
                    open_timeout=30,
                    max_queue=None,
                )
            except (OSError, TimeoutError, InvalidHandshake):
                # Refused or dropped while opening: the page's socket tries again.
                stats["failed_connects"] += 1
                first = False
                await asyncio.sleep(rng.uniform(0.1, 0.8))
                continue
            sockets[n] = ws
            if not first:
                await fetch(n)  # the page re-fetches on every reconnect
            first = False
            try:
                async for message in ws:
                    text = message if isinstance(message, str) else message.decode()
                    if 'id="live-resync"' in text:
                        stats["resync_notices"] += 1
                        fetching = asyncio.create_task(fetch(n))
                        pending.add(fetching)
                        fetching.add_done_callback(pending.discard)
                    elif 'id="live-filler"' in text:
                        stats["fillers"] += 1
                    else:
                        start = text.find('id="contact-', text.find("beforeend"))
                        if start >= 0:
                            seen[n].update(ID_PATTERN.findall(text[start : start + 60]))
            except ConnectionClosed:
                pass
            await asyncio.sleep(rng.uniform(0.1, 0.8))

    async def cutter() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.5)
            for n in rng.sample(range(len(clients)), k=max(1, len(clients) // 20)):
                ws = sockets.get(n)
                if ws is not None:
                    ws.transport.abort()  # no closing handshake: a dropped connection
                    stats["cuts"] += 1

    tasks = [asyncio.create_task(client(n)) for n in range(len(clients))]
    await asyncio.sleep(2.0)
    cutting = asyncio.create_task(cutter())
    flooded = tenants[: max(1, len(tenants) // 4)]
    floods = [asyncio.to_thread(_flood, t.pk, FLOOD) for t in flooded]
    escalated: list[tuple[int, str]] = []

    async def escalate_all(count: int) -> None:
        for push in range(count):
            index = push % len(tenants)
            public_id, _ = await asyncio.to_thread(_escalate, tenants[index])
            escalated.append((index, public_id))
            await asyncio.sleep(0.05)

    await asyncio.gather(escalate_all(DISRUPTED_PUSHES), *floods)
    cutting.cancel()
    # Traffic goes on after the storm; the next push through shows any gap, and a
    # socket that missed its tenant's last push is told within three of its rounds
    # (desk.consumers), then given time to fetch (the page also re-fetches every
    # 60 s, not counted here).
    from desk.consumers import ROUND_SECONDS

    await escalate_all(len(tenants))
    await asyncio.sleep(3 * ROUND_SECONDS + 5.0)
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    for ws in list(sockets.values()):
        with contextlib.suppress(Exception):
            await ws.close()
    for task in tasks:
        task.cancel()
    await http.aclose()
    missing = 0
    for index, public_id in escalated:
        for n, (client_tenant, _) in enumerate(clients):
            if client_tenant == index and public_id not in seen[n]:
                missing += 1
    sent_fillers = FLOOD * len(flooded) * (SOCKETS // TENANTS)
    return {
        **stats,
        "missing": missing,
        "escalations": len(escalated),
        "dropped": sent_fillers - stats["fillers"],
        "sent_fillers": sent_fillers,
    }


def run() -> list[dict]:
    from bench._django import setup

    setup()
    tenants, clients = _prepare()
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "desk.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        # As `make run` starts the web: a shared pool of connections, since each
        # request runs in a thread of its own.
        env={**os.environ, "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "10")},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        latencies, missing, leaks = asyncio.run(_measure(port, tenants, clients))
        disrupted = asyncio.run(_disrupt(port, tenants, clients))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    latencies.sort()
    p95 = (
        latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        if latencies
        else float("inf")
    )
    p50 = latencies[len(latencies) // 2] if latencies else float("inf")
    scale = f"{SOCKETS} sockets, {TENANTS} tenants, {PUSHES} escalations"
    return [
        {
            "metric": f"commit → swap message p50 ({scale})",
            "value": round(p50, 1),
            "unit": "ms",
            "target": "≤ 150 ms",
            "pass": p50 <= 150,
        },
        {
            "metric": f"commit → swap message p95 ({scale})",
            "value": round(p95, 1),
            "unit": "ms",
            "target": "≤ 150 ms",
            "pass": p95 <= 150,
        },
        {
            "metric": "deliveries missing",
            "value": missing,
            "unit": "messages",
            "target": "0",
            "pass": missing == 0,
        },
        {
            "metric": "cross-tenant messages",
            "value": leaks,
            "unit": "messages",
            "target": "0",
            "pass": leaks == 0,
        },
        {
            "metric": f"escalations a client never saw, of {disrupted['escalations']} pushed "
            f"while {disrupted['cuts']} connections were cut and the layer dropped "
            f"{disrupted['dropped']} of {disrupted['sent_fillers']} flood messages "
            f"({disrupted['resync_notices']} resync notices, {disrupted['fetches']} list fetches, "
            f"{disrupted['failed_connects']} reconnects refused, "
            f"{disrupted['failed_fetches']} fetches failed)",
            "value": disrupted["missing"],
            "unit": "client × escalation",
            "target": "0",
            "pass": disrupted["missing"] == 0,
        },
    ]
