"""A burst of refunds through a local fake Shopify that enforces cost-based limits.

Phase one: BENCH_SHOPIFY_REFUNDS refunds (default 1000), one per order, by
eight workers at once through the refund executor, as the actions queue
does at peak, against the test suite's fake Admin GraphQL endpoint set to
the Standard plan (a 1,000-point bucket restoring 100 a second; a refund
costs 13: the order's transactions, then ``refundCreate``). The shared per-shop
bucket should turn the burst into a queue: no refund fails for being
throttled, the time taken stays close to what the bucket allows (a full
bucket plus what refills), and the shop makes exactly one refund per order.

Phase two: BENCH_SHOPIFY_FAULT_REFUNDS refunds (default 200) while the shop
loses 15% of refund answers (the refund is made, the worker sees a 502) and
answers 5% of requests 503; then every refund task is delivered again, and
each refund's ``refunds/create`` webhook arrives twice under its delivery id
and once more under a new one. Still exactly one refund per order at the
shop, one mirrored refund each.

Bounded: loopback only; phase one takes about two minutes at the default
size, phase two under one."""

from __future__ import annotations

import os
import time
import uuid

REFUNDS = int(os.environ.get("BENCH_SHOPIFY_REFUNDS", "1000"))
FAULT_REFUNDS = int(os.environ.get("BENCH_SHOPIFY_FAULT_REFUNDS", "200"))
# The Standard plan: 100 points a second (shopify.dev, "API rate limits", 2026);
# the bucket is the 1,000 points the Standard plan has long had, the stricter
# of the sizes Shopify has published.
RESTORE_RATE = float(os.environ.get("BENCH_SHOPIFY_RESTORE_RATE", "100"))
BUCKET = float(os.environ.get("BENCH_SHOPIFY_BUCKET", "1000"))


def _burst() -> dict:
    from integrations.models import Refund
    from tests.factories import make_tenant
    from tests.integrations.shopify import refund_burst
    from tests.integrations.shopify.fake_shop import FakeShop

    fake = FakeShop(capacity=BUCKET, restore_rate=RESTORE_RATE)
    previous = refund_burst.use_fake(fake.start())
    try:
        tenant = make_tenant(f"bench-refunds-{uuid.uuid4().hex[:8]}", name="Bench refunds")
        _, orders = refund_burst.shop_with_orders(fake, REFUNDS, tenant=tenant)
        started = time.monotonic()
        errors = refund_burst.refund_all(orders)
        elapsed = time.monotonic() - started
    finally:
        refund_burst.shopify_client.ENDPOINT = previous
        fake.stop()
    per_order = refund_burst.refunds_per_order(fake, orders)
    return {
        "elapsed": elapsed,
        "share": REFUNDS / refund_burst.allowed_refunds(fake, elapsed),
        "throttling_errors": sum(refund_burst.is_throttling(e) for e in errors),
        "other_errors": sum(not refund_burst.is_throttling(e) for e in errors),
        "first_error": str(errors[0]) if errors else "",
        "throttled_answers": fake.throttled,
        "exactly_once": sum(1 for n in per_order.values() if n == 1),
        "mirrored": Refund.objects.filter(order__in=orders).count(),
        "fake": fake,
    }


def _faults() -> dict:
    from django.test import Client

    from integrations.models import Refund
    from tests.factories import make_tenant
    from tests.integrations.shopify import refund_burst
    from tests.integrations.shopify.fake_shop import FakeShop

    fake = FakeShop(
        capacity=BUCKET,
        restore_rate=RESTORE_RATE,
        lose_answer_rate=0.15,
        unavailable_rate=0.05,
        seed=11,
    )
    previous = refund_burst.use_fake(fake.start())
    try:
        tenant = make_tenant(f"bench-refund-faults-{uuid.uuid4().hex[:8]}", name="Bench faults")
        connection, orders = refund_burst.shop_with_orders(fake, FAULT_REFUNDS, tenant=tenant)
        errors = refund_burst.refund_all(orders)
        # The task queue delivers every refund task again...
        errors += refund_burst.refund_all(orders)
        # ...and Shopify every refund's webhook, three times.
        statuses = refund_burst.redeliver_refund_webhooks(
            Client(HTTP_HOST="localhost"), connection, fake
        )
    finally:
        refund_burst.shopify_client.ENDPOINT = previous
        fake.stop()
    per_order = refund_burst.refunds_per_order(fake, orders)
    wrong_amounts = sum(1 for amount in fake.refunded.values() if amount != refund_burst.REFUND)
    # A temporary failure (no answer after the client's own retries) is what
    # the task queue retries: it counts only if a refund then lands twice or
    # never. A permanent one would reach the case and a person.
    permanent = [e for e in errors if getattr(e, "permanent", True)]
    return {
        "retried": len(errors) - len(permanent),
        "errors": len(permanent),
        "first_error": str(permanent[0]) if permanent else "",
        "lost": fake.lost_answers,
        "unavailable": fake.unavailable,
        "exactly_once": sum(1 for n in per_order.values() if n == 1),
        "wrong_amounts": wrong_amounts,
        "mirrored": Refund.objects.filter(order__in=orders).count(),
        "webhooks": len(statuses),
        "webhooks_ok": statuses.count(200),
    }


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from tests.integrations.shopify.refund_burst import POINTS_PER_REFUND

    burst = _burst()
    faults = _faults()
    fake = burst.pop("fake")
    label = (
        f"{REFUNDS} refunds, 8 workers, bucket {fake.capacity:g} points "
        f"restoring {fake.restore_rate:g}/s"
    )
    return [
        {
            "metric": f"share of the allowed refund throughput ({label})",
            "value": round(burst["share"] * 100, 1),
            "unit": "%",
            "target": "≥ 90 %",
            "pass": burst["share"] >= 0.9,
        },
        {
            "metric": "throttling errors surfaced to callers "
            f"({burst['throttled_answers']} THROTTLED answers absorbed by the queue)",
            "value": burst["throttling_errors"],
            "unit": "errors",
            "target": "0",
            "pass": burst["throttling_errors"] == 0,
        },
        {
            "metric": "other refund errors"
            + (f" (first: {burst['first_error'][:80]})" if burst["other_errors"] else ""),
            "value": burst["other_errors"],
            "unit": "errors",
            "target": "0",
            "pass": burst["other_errors"] == 0,
        },
        {
            "metric": "orders refunded exactly once at the shop / refunds mirrored",
            "value": f"{burst['exactly_once']} / {burst['mirrored']}",
            "unit": f"of {REFUNDS}",
            "target": "all / all",
            "pass": burst["exactly_once"] == REFUNDS and burst["mirrored"] == REFUNDS,
        },
        {
            "metric": f"time for the burst ({REFUNDS} refunds × {POINTS_PER_REFUND} points)",
            "value": round(burst["elapsed"], 1),
            "unit": "s",
            "target": "informational",
            "pass": True,
        },
        {
            "metric": f"orders refunded exactly once at the shop, {FAULT_REFUNDS} refunds with "
            f"{faults['lost']} answers lost and {faults['unavailable']} 503s, every task "
            f"redelivered ({faults['retried']} after a temporary failure), every webhook sent "
            "three times"
            + (
                f"; {faults['errors']} permanent errors, first: {faults['first_error'][:80]}"
                if faults["errors"]
                else ""
            ),
            "value": f"{faults['exactly_once']}",
            "unit": f"of {FAULT_REFUNDS}",
            "target": "all, none twice",
            "pass": faults["exactly_once"] == FAULT_REFUNDS
            and faults["wrong_amounts"] == 0
            and faults["errors"] == 0,
        },
        {
            "metric": "with faults: refunds mirrored / webhook deliveries answered 200",
            "value": f"{faults['mirrored']} / {faults['webhooks_ok']}",
            "unit": f"of {FAULT_REFUNDS} / {faults['webhooks']}",
            "target": "all / all",
            "pass": faults["mirrored"] == FAULT_REFUNDS
            and faults["webhooks_ok"] == faults["webhooks"] == 3 * FAULT_REFUNDS,
        },
    ]
