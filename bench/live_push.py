"""Live push at desk scale: commit → swap message on every connected inbox.

Starts the real ASGI server (uvicorn, its own process) and opens
BENCH_SOCKETS websocket clients (default 200) as specialists spread over
BENCH_PUSH_TENANTS tenants (default 20), each with its own session. Then it
escalates BENCH_PUSHES contacts one after another (default 100) and, for every
client of that tenant, measures the time from the escalation's commit to the
message carrying that contact arriving. Any message reaching a client of
another tenant is counted as a leak."""

from __future__ import annotations

import asyncio
import os
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
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare():
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from tenants.models import Membership, Tenant, User
    from tenants.roles import Role
    from tests.factories import make_tenant

    tenants = []
    for i in range(1, TENANTS + 1):
        tenant = Tenant.objects.filter(slug=f"push-{i:02d}").first() or make_tenant(
            f"push-{i:02d}", name=f"Push {i:02d}"
        )
        tenants.append(tenant)
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
        env=dict(os.environ),
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
            "target": "≤ 1000 ms",
            "pass": p50 <= 1000,
        },
        {
            "metric": f"commit → swap message p95 ({scale})",
            "value": round(p95, 1),
            "unit": "ms",
            "target": "≤ 1000 ms",
            "pass": p95 <= 1000,
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
    ]
