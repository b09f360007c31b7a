"""The whole loop on the real stack: intake → agent → decision → usage record.

Creates a dedicated ``bench-loop`` tenant, starts a real Celery worker process,
submits contacts at a fixed rate through the intake action (the API's code
path after authentication) and measures, per contact, the time from commit to
decision (resolved by the agent, or escalated with a proposal). Mix: 70%
WISMO on in-transit orders, 20% small refunds (auto), 10% refunds above the
auto-limit (escalated). Orders are made before the clock starts, so the
offered rate measures intake, not fixture building.

Knobs: BENCH_LOOP_RATE (contacts offered per second, default 10),
BENCH_LOOP_SECONDS (how long to offer them, default 30) or BENCH_LOOP_CONTACTS
(how many, overrides the duration), BENCH_LOOP_SURVEY_DELAY_HOURS (the
tenant's survey delay, default 24; 0 sends surveys inside the run),
BENCH_LOOP_AUTOVACUUM_SECONDS (how often the benchmark vacuums the tables it
writes when the server's autovacuum is off, default 60; the tables it filled with
orders are analysed once, before the first contact). The worker is started as `make run` starts
it (pool and concurrency from settings, WORKER_CONCURRENCY to override). Besides
latency it reports the worker's CPU time per contact and the load average, the
figures that stay comparable on a shared machine."""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RATE = float(os.environ.get("BENCH_LOOP_RATE", "10"))  # contacts per second offered
SECONDS = float(os.environ.get("BENCH_LOOP_SECONDS", "30"))
CONTACTS = int(os.environ.get("BENCH_LOOP_CONTACTS") or round(RATE * SECONDS))
INTAKE_THREADS = int(os.environ.get("BENCH_LOOP_INTAKE_THREADS", "4"))
# The tenant's satisfaction survey delay: the product's default, a day; 0 sends
# each survey with its answer, inside the run.
SURVEY_DELAY = int(os.environ.get("BENCH_LOOP_SURVEY_DELAY_HOURS", "24"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its live children (the pool's processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# The tables an agent run writes. The benchmark vacuums and analyses them every
# AUTOVACUUM_EVERY seconds when the server has autovacuum off, as autovacuum would:
# without it, dead row versions pile up and the planner keeps statistics from
# before the run, neither of which a production database lets happen.
_WRITTEN_TABLES = (
    "desk_contact",
    "desk_message",
    "desk_proposal",
    "desk_slaclock",
    "desk_boarddaychange",
    "integrations_outboundmessage",
    "integrations_refund",
    "billing_usagerecord",
    "tenants_auditevent",
    "agents_agentrun",
    "agents_toolcall",
)
# And the tables the benchmark fills before the clock starts (orders and what hangs
# off them): autovacuum would have analysed them after thousands of inserts, so the
# stand-in does that once before the first contact.
_FIXTURE_TABLES = (
    "integrations_customer",
    "integrations_order",
    "integrations_orderline",
    "integrations_shipment",
    "integrations_trackingevent",
)
AUTOVACUUM_EVERY = float(os.environ.get("BENCH_LOOP_AUTOVACUUM_SECONDS", "60"))


class _StandInAutovacuum(threading.Thread):
    """VACUUM (ANALYZE) of the written tables every AUTOVACUUM_EVERY seconds, on a
    connection of its own, if and only if the server's autovacuum is off."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.rounds = 0
        self.connection = None

    @staticmethod
    def needed() -> bool:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            return cursor.fetchone()[0] == "off"

    def vacuum(self, tables: tuple[str, ...]) -> None:
        import psycopg
        from django.conf import settings

        if self.connection is None:
            db = settings.DATABASES["default"]
            self.connection = psycopg.connect(
                dbname=db["NAME"],
                user=db["USER"] or None,
                password=db["PASSWORD"] or None,
                host=db["HOST"] or None,
                port=db["PORT"] or None,
                autocommit=True,
            )
        self.connection.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")

    def run(self) -> None:
        try:
            while not self.stopping.wait(AUTOVACUUM_EVERY):
                self.vacuum(_WRITTEN_TABLES)
                self.rounds += 1
        finally:
            if self.connection is not None:
                self.connection.close()


def _queued(app) -> int:
    from django.conf import settings

    with app.connection_for_read() as connection:
        channel = connection.default_channel
        return sum(
            channel._size(queue)  # the Redis transport's count over its priority lists
            for queue in settings.CELERY_QUEUES_ALL.split(",")
        )


def run() -> list[dict]:
    from bench._django import production_env, setup

    setup()
    from django import db
    from django.conf import settings

    from billing.models import UsageRecord
    from desk import actions, csat
    from desk.models import Contact
    from integrations.messaging.models import OutboundMessage
    from tenants.actor import Actor
    from tenants.models import Tenant
    from tests.factories import make_order, make_tenant
    from tests.smtp_relay import SmtpRelay

    Tenant.objects.filter(slug="bench-loop").update(
        slug=f"bench-loop-old-{int(time.time())}", is_active=False
    )
    tenant = make_tenant(
        "bench-loop",
        name="Bench loop",
        daily_auto_refund_cap=10**9,
        csat_survey_delay_hours=SURVEY_DELAY,
    )
    rng = random.Random(7)
    in_transit = [make_order(tenant, total="60.00") for _ in range(40)]
    plan = []
    for _ in range(CONTACTS):
        roll = rng.random()
        if roll < 0.7:
            plan.append((rng.choice(in_transit), "where is my order??"))
        elif roll < 0.9:
            order = make_order(tenant, total="45.00", shipment_status="delivered")
            plan.append((order, "refund please"))
        else:
            order = make_order(tenant, total="300.00", shipment_status="delivered")
            plan.append((order, "I want a refund"))
    # The worker as production runs it: DEBUG off (no query log), nicer than
    # the intake (WORKER_NICENESS), persistent database connections, mail handed
    # to an SMTP relay.
    sink = SmtpRelay().__enter__()
    env = production_env(
        DB_CONN_MAX_AGE="60",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
    )
    # And the intake as the web runs it: no query log either.
    settings.DEBUG = False
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "desk",
            "worker",
            "-Q",
            "agents,actions,nudges,sla,intake",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        from desk.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            time.sleep(0.5)
        # Building the orders queued tracking nudges: let the worker finish them first.
        quiet_by = time.monotonic() + 120
        while _queued(app) and time.monotonic() < quiet_by:
            time.sleep(0.5)
        autovacuum = _StandInAutovacuum() if _StandInAutovacuum.needed() else None
        if autovacuum is not None:
            autovacuum.vacuum(_FIXTURE_TABLES + _WRITTEN_TABLES)
            autovacuum.start()
        cpu_before = _cpu_seconds(worker.pid)
        created: dict[int, float] = {}
        started = time.monotonic()

        def submit(i: int, order, body: str) -> None:
            # Open loop: each contact arrives at its time, however busy the desk is.
            if (pause := started + i / RATE - time.monotonic()) > 0:
                time.sleep(pause)
            try:
                contact = actions.create_contact(
                    tenant,
                    actor=Actor.system("bench"),
                    channel="api",
                    customer_email=order.email,
                    order_number=order.number,
                    body=body,
                )
                created[contact.pk] = time.time()
            finally:
                db.close_old_connections()

        # Several intakes at once, as several API requests are.
        with ThreadPoolExecutor(INTAKE_THREADS) as intake:
            for future in [intake.submit(submit, i, o, b) for i, (o, b) in enumerate(plan)]:
                future.result()
        offered_seconds = time.monotonic() - started
        decided: dict[int, float] = {}
        deadline = time.monotonic() + 120
        while len(decided) < len(created) and time.monotonic() < deadline:
            rows = (
                Contact.objects.filter(pk__in=[pk for pk in created if pk not in decided])
                .exclude(status__in=[Contact.Status.RECEIVED, Contact.Status.EXECUTING])
                .values_list("pk", "resolved_at", "escalated_at")
            )
            for pk, resolved_at, escalated_at in rows:
                decided[pk] = (resolved_at or escalated_at).timestamp()
            time.sleep(0.2)
        worker_cpu = _cpu_seconds(worker.pid) - cpu_before
        if autovacuum is not None:
            autovacuum.stopping.set()
        load = os.getloadavg()[0]
        latencies = [decided[pk] - created[pk] for pk in decided]
        span = max(decided.values(), default=0) - min(created.values(), default=0)
        sustained = len(decided) / span if span > 0 else 0.0
        lost = len(created) - len(decided)
        usage = UsageRecord.objects.filter(tenant=tenant).count()
        resolved = Contact.objects.filter(tenant=tenant, status=Contact.Status.RESOLVED).count()
        # Surveys wait the merchant's delay (a day by default), after the run.
        held_surveys = OutboundMessage.objects.filter(
            tenant=tenant, state=OutboundMessage.State.QUEUED, defer_reason=csat.DEFER_REASON
        ).count()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        sink.__exit__(None, None, None)
    p50 = statistics.median(latencies) if latencies else float("inf")
    p95 = _percentile(latencies, 0.95) if latencies else float("inf")
    return [
        {
            "metric": f"intake-to-decision p50 ({CONTACTS} contacts at {RATE:g}/s)",
            "value": round(p50 * 1000),
            "unit": "ms",
            "target": "≤ 2000 ms",
            "pass": p50 <= 2,
        },
        {
            "metric": f"intake-to-decision p95 ({CONTACTS} contacts at {RATE:g}/s)",
            "value": round(p95 * 1000),
            "unit": "ms",
            "target": "≤ 2000 ms",
            "pass": p95 <= 2,
        },
        {
            "metric": "slowest intake-to-decision",
            "value": round(max(latencies, default=float("inf")) * 1000),
            "unit": "ms",
            "target": "≤ 10000 ms",
            "pass": max(latencies, default=float("inf")) <= 10,
        },
        {
            "metric": "contacts without a decision after 120 s",
            "value": lost,
            "unit": "contacts",
            "target": "0",
            "pass": lost == 0,
        },
        {
            "metric": "usage records per resolved contact",
            "value": round(usage / resolved, 3) if resolved else 0,
            "unit": "ratio",
            "target": "1.0",
            "pass": usage == resolved,
        },
        {
            "metric": "sustained rate (decided contacts / first intake to last decision)",
            "value": round(sustained, 1),
            "unit": "contacts/s",
            "target": f"≥ {RATE * 0.95:g}",
            "pass": sustained >= RATE * 0.95,
        },
        {
            "metric": "worker CPU per contact (all pool processes, incl. outbox sends)",
            "value": round(worker_cpu * 1000 / max(len(decided), 1), 1),
            "unit": "ms",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": "emails the SMTP relay accepted (answers, holding messages)",
            "value": sink.received,
            "unit": "emails",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": f"surveys held in the outbox for the tenant's delay ({SURVEY_DELAY} h)",
            "value": held_surveys,
            "unit": "messages",
            "target": "one per resolution" if SURVEY_DELAY else "0",
            "pass": held_surveys == (resolved if SURVEY_DELAY else 0),
        },
        {
            "metric": "stand-in autovacuum rounds (the server's autovacuum is off)"
            if autovacuum is not None
            else "stand-in autovacuum rounds (the server's own autovacuum runs)",
            "value": autovacuum.rounds if autovacuum is not None else 0,
            "unit": f"× VACUUM (ANALYZE), every {AUTOVACUUM_EVERY:g} s",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": f"1-minute load average at the end ({os.cpu_count()} cores)",
            "value": round(load, 2),
            "unit": "",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": "offered rate achieved",
            "value": round(CONTACTS / offered_seconds, 1),
            "unit": "contacts/s",
            "target": f"{RATE:g}",
            "pass": CONTACTS / offered_seconds >= RATE * 0.9,
        },
    ]
