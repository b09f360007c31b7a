"""Approved refunds executed exactly once while workers are killed at random.

A Celery worker (prefork, two processes) executes approved refund proposals
against a local Shopify stand-in (the test suite's fake: cost-based
throttling, ``@idempotent`` refunds). Meanwhile the harness sends SIGKILL at
random moments, sometimes to a pool process in the middle of a task,
sometimes to the whole worker, and starts a new one; it re-sends stalled work
every few seconds, as beat does. The shop misbehaves too: 10% of requests
answer 503 and 5% of refunds are made with their answer lost. A poison task (it kills whatever process
runs it) is queued too. At the end: every proposal executed, each refund made
once at the shop and recorded once, one usage record per contact, and the
poison task in the dead-letter queue instead of looping.

Bounded: BENCH_CHAOS_REFUNDS refunds (default 200); kills stop after
BENCH_CHAOS_SECONDS (default 90) and the run gives up at 8 minutes."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

REFUNDS = int(os.environ.get("BENCH_CHAOS_REFUNDS", "200"))
CHAOS_SECONDS = float(os.environ.get("BENCH_CHAOS_SECONDS", "90"))
GIVE_UP_SECONDS = 480
ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        ).stdout
    except FileNotFoundError:
        return []
    return [int(line) for line in out.split()]


class Worker:
    """One `celery worker` in a process group of its own, killable as a whole."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "desk",
                "worker",
                "-I",
                "bench._chaos_tasks",
                "-Q",
                "actions,agents",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--loglevel",
                "ERROR",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"chaos{self.starts}@%h",
            ],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1

    def kill_all(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill_one_pool_process(self, rng: random.Random) -> bool:
        if self.process is None:
            return False
        children = _children(self.process.pid)
        if not children:
            return False
        try:
            os.kill(rng.choice(children), signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True


def _setup(fake) -> tuple[list[int], object]:
    from django.utils import timezone

    from desk.models import Contact, Message, Proposal
    from integrations.models import Connection, Order
    from integrations.ratelimit import SharedBucket
    from tests.factories import make_tenant

    stamp = int(time.time())
    shop = f"chaos-{stamp}.myshopify.com"
    SharedBucket(f"shopify:{shop}").reset()
    tenant = make_tenant(f"bench-chaos-{stamp}", name="Bench chaos")
    connection = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Shopify stand-in",
        credentials={"shop": shop, "access_token": "shpat_fake", "webhook_secret": "whsec"},
    )
    rng = random.Random(11)
    proposal_ids = []
    for i in range(REFUNDS):
        order = Order.objects.create(
            tenant=tenant,
            connection=connection,
            external_id=str(stamp * 1000 + i),
            number=f"C{i}",
            email=f"buyer{i}@example.com",
            currency="USD",
            subtotal=Decimal("100.00"),
            total=Decimal("100.00"),
            placed_at=timezone.now(),
        )
        fake.paid[f"gid://shopify/Order/{order.external_id}"] = Decimal("100.00")
        contact = Contact.objects.create(
            tenant=tenant,
            order=order,
            customer_email=order.email,
            subject="Arrived broken",
            intent="refund",
            status=Contact.Status.EXECUTING,
        )
        Message.objects.create(
            contact=contact, direction="inbound", author_type="customer", body="It arrived broken."
        )
        proposal = Proposal.objects.create(
            tenant=tenant,
            contact=contact,
            kind=Proposal.Kind.REFUND,
            status=Proposal.Status.APPROVED,
            amount=Decimal(rng.randrange(10, 90)),
            currency="USD",
            reply_draft="We have refunded you.",
        )
        proposal_ids.append(proposal.pk)
    return proposal_ids, tenant


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from desk.celery import app
    from desk.models import DeadLetter, Proposal
    from desk.tasks import execute_proposal, requeue_stalled
    from integrations.models import Refund
    from tests.integrations.shopify.fake_shop import FakeShop

    # On top of the kills, the shop fails: one request in ten answers 503, and
    # one refund in twenty is made but its answer is lost (the worker sees a 502).
    fake = FakeShop(restore_rate=100.0, lose_answer_rate=0.05, unavailable_rate=0.1)
    base = fake.start()
    endpoint = base + "/{shop}/admin/api/{version}/graphql.json"
    proposal_ids, tenant = _setup(fake)
    env = {**os.environ, "SHOPIFY_ADMIN_ENDPOINT": endpoint, "DB_CONN_MAX_AGE": "60"}
    worker = Worker(env)
    rng = random.Random(5)
    pool_kills = worker_kills = 0
    started = time.monotonic()
    poison_label = f"poison-{int(time.time())}"
    try:
        worker.start()
        for proposal_id in proposal_ids:
            execute_proposal.delay(proposal_id=proposal_id)
        last_requeue = last_whole_kill = time.monotonic()
        poison_sent = False
        while time.monotonic() - started < GIVE_UP_SECONDS:
            time.sleep(rng.uniform(1.0, 4.0))
            if not poison_sent and time.monotonic() - started >= CHAOS_SECONDS:
                # Sent once the whole-worker kills are over: a message taken by a
                # worker killed whole waits out the broker's visibility timeout
                # (an hour) before anyone sees it again.
                app.send_task("bench.poison", kwargs={"label": poison_label}, queue="actions")
                poison_sent = True
            if time.monotonic() - started < CHAOS_SECONDS:
                # A new worker needs several seconds to fork its pool: kill
                # whole workers now and then, pool processes the rest of the time.
                if time.monotonic() - last_whole_kill > 20 and rng.random() < 0.3:
                    worker.kill_all()
                    worker_kills += 1
                    worker.start()
                    last_whole_kill = time.monotonic()
                else:
                    pool_kills += worker.kill_one_pool_process(rng)
            if time.monotonic() - last_requeue > 5:
                # What beat does every minute, sooner: work whose message died
                # with a whole worker (unacknowledged until the visibility timeout).
                requeue_stalled.run(older_than_seconds=15)
                last_requeue = time.monotonic()
            waiting = Proposal.objects.filter(
                pk__in=proposal_ids, status=Proposal.Status.APPROVED
            ).count()
            poisoned = DeadLetter.objects.filter(kwargs__label=poison_label).exists()
            if not waiting and poisoned:
                break
        elapsed = time.monotonic() - started
    finally:
        worker.kill_all()
        fake.stop()

    from billing.models import UsageRecord

    statuses = dict.fromkeys(Proposal.Status.values, 0)
    for status in Proposal.objects.filter(pk__in=proposal_ids).values_list("status", flat=True):
        statuses[status] += 1
    executed = statuses[Proposal.Status.EXECUTED]
    refunds_at_shop = len(fake.refunds)
    over_refunded = sum(
        1
        for gid, amount in fake.refunded.items()
        if amount > Decimal("100.00") or gid not in fake.paid
    )
    proposals = {
        p.contact.order.external_id: p.amount
        for p in Proposal.objects.filter(pk__in=proposal_ids).select_related("contact__order")
    }
    wrong_amounts = sum(
        1
        for external_id, amount in proposals.items()
        if fake.refunded.get(f"gid://shopify/Order/{external_id}", Decimal("0")) != amount
    )
    recorded = Refund.objects.filter(order__tenant=tenant).count()
    usage = UsageRecord.objects.filter(tenant=tenant).count()
    letter = DeadLetter.objects.filter(kwargs__label=poison_label).first()
    stuck_in_dlq = DeadLetter.objects.filter(
        task_name="desk.execute_proposal", kwargs__proposal_id__in=proposal_ids
    ).count()
    label = f"{REFUNDS} approved refunds, prefork worker ×2"
    return [
        {
            "metric": f"refunds executed, each once ({label}; {pool_kills} pool processes "
            f"and {worker_kills} whole workers SIGKILLed)",
            "value": f"{executed}/{REFUNDS}",
            "unit": "executed",
            "target": "all, none twice",
            "pass": executed == REFUNDS
            and refunds_at_shop == REFUNDS
            and wrong_amounts == 0
            and over_refunded == 0,
        },
        {
            "metric": "refunds made at the shop / refunded amount differing from the proposal",
            "value": f"{refunds_at_shop} / {wrong_amounts}",
            "unit": "refunds",
            "target": f"{REFUNDS} / 0",
            "pass": refunds_at_shop == REFUNDS and wrong_amounts == 0,
        },
        {
            "metric": "refunds recorded / usage records",
            "value": f"{recorded} / {usage}",
            "unit": "rows",
            "target": f"{REFUNDS} / {REFUNDS}",
            "pass": recorded == REFUNDS and usage == REFUNDS,
        },
        {
            "metric": "poison task (kills its worker every time) set aside after deliveries",
            "value": letter.deliveries if letter else "looping",
            "unit": "deliveries",
            "target": "in the dead-letter queue",
            "pass": letter is not None and stuck_in_dlq == 0,
        },
        {
            "metric": f"time until everything settled (chaos for the first {CHAOS_SECONDS:g} s)",
            "value": round(elapsed, 1),
            "unit": "s",
            "target": f"< {GIVE_UP_SECONDS} s",
            "pass": elapsed < GIVE_UP_SECONDS,
        },
    ]
