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
BENCH_LOOP_AUTOVACUUM_SECONDS (when the server's autovacuum is off, the
benchmark does its work by the server's thresholds and cost delay: how often it
looks, default the server's naptime). The worker is started as `make run` starts
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


# The tables an agent run writes. When the server has autovacuum off, the benchmark
# stands in for it: without it dead row versions pile up and the planner keeps
# statistics from before the run, neither of which a production database lets happen.
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
# off them), looked at once before the first contact.
_FIXTURE_TABLES = (
    "integrations_customer",
    "integrations_order",
    "integrations_orderline",
    "integrations_shipment",
    "integrations_trackingevent",
)
AUTOVACUUM_EVERY = os.environ.get("BENCH_LOOP_AUTOVACUUM_SECONDS")  # default: the server's naptime

# Which tables autovacuum would take now, by the server's own thresholds: vacuum once
# dead rows (or rows inserted since the last vacuum) pass threshold + scale factor ×
# the table's rows, analyse once rows changed since the last analysis do.
_DUE_SQL = """
SELECT s.relname,
       s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
         + current_setting('autovacuum_vacuum_scale_factor')::float8 * GREATEST(c.reltuples, 0)
       OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
         + current_setting('autovacuum_vacuum_insert_scale_factor')::float8
           * GREATEST(c.reltuples, 0),
       s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
         + current_setting('autovacuum_analyze_scale_factor')::float8 * GREATEST(c.reltuples, 0)
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
 WHERE s.relname = ANY(%s)
 ORDER BY s.relname
"""


class _StandInAutovacuum(threading.Thread):
    """What autovacuum would do, on a connection of its own, if and only if the server
    has it off: every naptime, each table past the server's thresholds is vacuumed or
    analysed, throttled by the autovacuum cost delay as autovacuum is."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()
        self.vacuums = 0
        self.analyses = 0
        self.connection = None

    @staticmethod
    def needed() -> bool:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW autovacuum")
            return cursor.fetchone()[0] == "off"

    def _connect(self):
        import psycopg
        from django.conf import settings

        db = settings.DATABASES["default"]
        connection = psycopg.connect(
            dbname=db["NAME"],
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            autocommit=True,
        )
        delay, limit, fallback = connection.execute(
            "SELECT current_setting('autovacuum_vacuum_cost_delay'),"
            " current_setting('autovacuum_vacuum_cost_limit')::int,"
            " current_setting('vacuum_cost_limit')::int"
        ).fetchone()
        connection.execute(f"SET vacuum_cost_delay = '{delay}'")
        connection.execute(f"SET vacuum_cost_limit = {limit if limit > 0 else fallback}")
        self.naptime = float(
            AUTOVACUUM_EVERY
            or connection.execute(
                "SELECT setting FROM pg_settings WHERE name = 'autovacuum_naptime'"  # seconds
            ).fetchone()[0]
        )
        return connection

    def round(self, tables: tuple[str, ...]) -> None:
        if self.connection is None:
            self.connection = self._connect()
        due = self.connection.execute(_DUE_SQL, [list(tables)]).fetchall()
        for table, vacuum, analyze in due:
            if vacuum:
                self.connection.execute(f"VACUUM {'(ANALYZE) ' if analyze else ''}{table}")
                self.vacuums += 1
            elif analyze:
                self.connection.execute(f"ANALYZE {table}")
            self.analyses += bool(analyze)

    def run(self) -> None:
        try:
            while not self.stopping.wait(self.naptime):
                self.round(_WRITTEN_TABLES)
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
            autovacuum.round(_FIXTURE_TABLES + _WRITTEN_TABLES)
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
    # Each minute of the run on its own: a desk that slowly falls behind shows here
    # before the run's p95 does.
    by_minute: dict[int, list[float]] = {}
    first = min(created.values(), default=0)
    for pk, at in decided.items():
        by_minute.setdefault(int((created[pk] - first) // 60), []).append(at - created[pk])
    minute_p95s = [_percentile(by_minute[m], 0.95) for m in sorted(by_minute)]
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
            "metric": "intake-to-decision p95 of each minute of intake, in order",
            "value": " ".join(f"{v * 1000:.0f}" for v in minute_p95s),
            "unit": "ms",
            "target": "informational",
            "pass": True,
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
            "metric": "stand-in autovacuum (the server's is off): tables vacuumed / analysed"
            if autovacuum is not None
            else "stand-in autovacuum (the server's own autovacuum runs)",
            "value": f"{autovacuum.vacuums} / {autovacuum.analyses}" if autovacuum else "0 / 0",
            "unit": "",
            "target": "informational (by the server's autovacuum thresholds)",
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
