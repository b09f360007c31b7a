"""Faults: Redis and PostgreSQL restarted, the LLM endpoint failing, under load.

The harness runs a private stack of its own (PostgreSQL and Redis under a
temporary directory, so restarting them disturbs nobody) with the web,
a worker and beat as `make run` starts them, the demo merchants seeded, and
the LLM planner pointed at an endpoint that fails (HTTP 500 for the first
half of the run, then answers too slowly). A client submits contacts through
the API all along, each with its own Idempotency-Key, and resends any that
got no 202 — as an integration should — while the harness:

1. kills Redis (SIGKILL, no goodbye) and starts it again after a while;
2. stops PostgreSQL immediately (no checkpoint) and starts it again;

and probes the web throughout. At the end: every submission accepted once
(never twice), every accepted contact decided by the agent, one usage
record per resolution, and the web answered every probe (503 with a page
that says why during an outage, never a dropped connection).

Bounded: about 4 minutes (BENCH_FAULT_RATE contacts/s, default 2)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
RATE = float(os.environ.get("BENCH_FAULT_RATE", "2"))
OUTAGE_SECONDS = 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FailingLLM:
    """An OpenAI-compatible endpoint that is down (500) or, later, too slow."""

    def __init__(self) -> None:
        self.slow = False
        self.calls = Counter()

    def start(self) -> str:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if llm.slow:
                    llm.calls["slow"] += 1
                    time.sleep(5)  # past the desk's request timeout
                else:
                    llm.calls["down"] += 1
                body = json.dumps({"error": {"message": "upstream overloaded"}}).encode()
                try:
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


class Stack:
    """Private PostgreSQL + Redis (the embedded ones) under a directory of its own."""

    def __init__(self, root: Path) -> None:
        self.env = {**os.environ, "DESK_VAR_DIR": str(root), "PYTHONPATH": str(ROOT)}
        for name in ("DATABASE_URL", "REDIS_URL"):
            self.env.pop(name, None)

    def _embedded(self, code: str) -> str:
        return subprocess.run(
            [PYTHON, "-c", f"from desk import embedded\n{code}"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    def start(self) -> tuple[str, str]:
        out = self._embedded(
            "import json; s = embedded.ensure_running(); "
            "print(json.dumps([s.database_url, s.redis_url]))"
        )
        database_url, redis_url = json.loads(out.strip().splitlines()[-1])
        return database_url, redis_url

    def kill_redis(self) -> None:
        pid = int((Path(self.env["DESK_VAR_DIR"]) / "redis" / "redis.pid").read_text())
        os.kill(pid, signal.SIGKILL)

    def stop_postgres(self) -> None:
        self._embedded("embedded._pg_ctl('stop', '-m', 'immediate')")

    def stop_all(self) -> None:
        self._embedded("embedded.stop(embedded.Started('', '', True, True))")


def run() -> list[dict]:
    root = Path(tempfile.mkdtemp(prefix="desk-faults-"))
    stack = Stack(root)
    llm = FailingLLM()
    processes: list[subprocess.Popen] = []
    try:
        database_url, redis_url = stack.start()
        port = _free_port()
        env = {
            **stack.env,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": "faults",
            "DEBUG": "0",
            "SECRET_KEY": "faults-" + uuid.uuid4().hex * 2,
            "ENCRYPTION_KEY": "x1yVIsyCNIWFqTDeDj3aXjOA0AkfUgCU8pGdXmWa7aU=",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "DEMO_SIMULATOR_INTERVAL": "0",
            "LLM_BASE_URL": llm.start(),
            "LLM_API_KEY": "faults",
            "LLM_MODEL": "faults",
            "LLM_REQUEST_TIMEOUT": "1",
            "PYTHONUNBUFFERED": "1",
        }
        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        # As a deployment does: production serves hashed static files from a manifest.
        subprocess.run(
            [*manage, "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
        )
        subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True)
        info = json.loads(
            subprocess.run(
                [*manage, "demo_info", "--json"],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        merchant = info["tenants"][0]
        orders = [o for orders in merchant["sample_orders"].values() for o in orders] or [
            {"number": "", "email": "someone@example.com"}
        ]
        logs = open(root / "processes.log", "w")  # noqa: SIM115 - closed with the stack
        for command, extra in (
            (
                [
                    str(BIN / "uvicorn"),
                    "desk.asgi:application",
                    "--port",
                    str(port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                {"DB_POOL_MAX_SIZE": "8"},
            ),
            (
                [
                    str(BIN / "celery"),
                    "-A",
                    "desk",
                    "worker",
                    "-Q",
                    "agents,actions,nudges,sla,intake",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "WARNING",
                    "--without-mingle",
                    "--without-gossip",
                ],
                {"DB_CONN_MAX_AGE": "60"},
            ),
            (
                [
                    str(BIN / "celery"),
                    "-A",
                    "desk",
                    "beat",
                    "--loglevel",
                    "WARNING",
                    "--schedule",
                    str(root / "beat-schedule"),
                ],
                {},
            ),
        ):
            processes.append(
                subprocess.Popen(command, env={**env, **extra}, cwd=ROOT, stdout=logs, stderr=logs)
            )
        base = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=base, timeout=10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http.get("/healthz").status_code in {200, 503}:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)

        stop = threading.Event()
        accepted: dict[str, str] = {}  # idempotency key → contact id
        attempts: Counter = Counter()
        probes: Counter = Counter()

        def submit_forever() -> None:
            client = httpx.Client(
                base_url=base,
                timeout=10,
                headers={"Authorization": f"Bearer {merchant['api_key']}"},
            )
            pending: list[tuple[str, dict]] = []
            n = 0
            next_at = time.monotonic()
            while not stop.is_set() or pending:
                if not stop.is_set() and time.monotonic() >= next_at:
                    order = orders[n % len(orders)]
                    pending.append(
                        (
                            f"faults-{uuid.uuid4()}",
                            {
                                "customer_email": order["email"],
                                "order_number": order["number"],
                                "body": "Where is my order? It has been days.",
                            },
                        )
                    )
                    n += 1
                    next_at += 1 / RATE
                still = []
                for key, body in pending:
                    attempts[key] += 1
                    try:
                        response = client.post(
                            "/api/v1/contacts", json=body, headers={"Idempotency-Key": key}
                        )
                    except httpx.HTTPError:
                        response = None
                    if response is not None and response.status_code == 202:
                        contact_id = response.json()["id"]
                        if accepted.setdefault(key, contact_id) != contact_id:
                            attempts["second contact for one key"] += 1
                    else:
                        still.append((key, body))
                pending = still
                time.sleep(0.2 if pending else 0.05)

        def probe_forever() -> None:
            # A page that needs no database, and one that does (a contact
            # through the API): both must answer, the second with a 503 that
            # says why while PostgreSQL is away.
            key = {"Authorization": f"Bearer {merchant['api_key']}"}
            turn = 0
            while not stop.is_set():
                turn += 1
                known = next(iter(accepted.values()), None)
                try:
                    if turn % 2 and known:
                        response = http.get(f"/api/v1/contacts/{known}", headers=key)
                        if response.status_code == 503:
                            probes["503 says why"] += "Idempotency-Key" in response.text
                    else:
                        response = http.get("/accounts/login/")
                    probes[response.status_code] += 1
                except httpx.HTTPError:
                    probes["no answer"] += 1
                time.sleep(0.5)

        workers = [threading.Thread(target=submit_forever), threading.Thread(target=probe_forever)]
        for thread in workers:
            thread.start()
        timeline = []
        time.sleep(20)
        timeline.append(("redis killed", time.monotonic()))
        stack.kill_redis()
        time.sleep(OUTAGE_SECONDS)
        stack.start()
        timeline.append(("redis back", time.monotonic()))
        time.sleep(25)
        llm.slow = True
        timeline.append(("postgres stopped", time.monotonic()))
        stack.stop_postgres()
        time.sleep(OUTAGE_SECONDS)
        stack.start()
        timeline.append(("postgres back", time.monotonic()))
        time.sleep(25)
        stop.set()
        for thread in workers:
            thread.join(timeout=120)

        # Everything accepted must be decided; lost tasks come back through
        # beat's re-queue of stalled work (after its two-minute grace).
        settle_deadline = time.monotonic() + 240
        summary: dict = {}
        while time.monotonic() < settle_deadline:
            out = subprocess.run(
                [*manage, "shell", "-c", _SUMMARY.format(keys=json.dumps(list(accepted)))],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            try:
                summary = json.loads(out.strip().splitlines()[-1])
            except (ValueError, IndexError):
                summary = {}
            if summary and summary["undecided"] == 0:
                break
            time.sleep(10)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        try:
            stack.stop_all()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    submitted = len([k for k in attempts if k.startswith("faults-")])
    resent = sum(v - 1 for k, v in attempts.items() if k.startswith("faults-"))
    answered = sum(v for k, v in probes.items() if isinstance(k, int))
    return [
        {
            "metric": f"submissions accepted once ({submitted} at {RATE:g}/s through Redis "
            f"SIGKILL and PostgreSQL immediate stop, {OUTAGE_SECONDS} s each; {resent} resends)",
            "value": f"{len(accepted)} accepted, {summary.get('contacts', '?')} contacts",
            "unit": "",
            "target": "every submission, one contact each",
            "pass": len(accepted) == submitted
            and summary.get("contacts") == submitted
            and attempts["second contact for one key"] == 0,
        },
        {
            "metric": "accepted contacts left undecided by the agent",
            "value": summary.get("undecided", "?"),
            "unit": "contacts",
            "target": "0",
            "pass": summary.get("undecided") == 0,
        },
        {
            "metric": "usage records / resolutions",
            "value": f"{summary.get('usage', '?')} / {summary.get('resolved', '?')}",
            "unit": "",
            "target": "equal",
            "pass": bool(summary) and summary["usage"] == summary["resolved"],
        },
        {
            "metric": "LLM endpoint down (500) then slow: calls / contacts decided by the fallback",
            "value": f"{sum(llm.calls.values())} / {summary.get('decided', '?')}",
            "unit": "",
            "target": "every contact decided",
            "pass": summary.get("undecided") == 0,
        },
        {
            "metric": "web probes answered (503 with a reason during outages) / no answer",
            "value": f"{answered} ({probes.get(503, 0)} × 503, {probes.get('503 says why', 0)} "
            f"saying why) / {probes.get('no answer', 0)}",
            "unit": "probes",
            "target": "no probe unanswered",
            "pass": probes.get("no answer", 0) == 0
            and probes.get(500, 0) == 0
            and probes.get(503, 0) == probes.get("503 says why", 0),
        },
    ]


_SUMMARY = """
import json
from desk.models import Contact
from billing.models import UsageRecord
keys = {keys}
contacts = Contact.objects.filter(idempotency_key__in=keys)
decided = contacts.exclude(status__in=["received"]).count()
resolved = contacts.filter(status="resolved")
print(json.dumps({{
    "contacts": contacts.count(),
    "decided": decided,
    "undecided": contacts.count() - decided,
    "resolved": resolved.count(),
    "usage": UsageRecord.objects.filter(
        contact_ref__in=resolved.values_list("public_id", flat=True), corrects__isnull=True
    ).count(),
}}))
"""
