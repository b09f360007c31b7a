"""Nudge evaluation at volume: 100,000 tracking events, 20 tenants, every event twice.

Seeds 20 tenants with six nudge rules each and 100,000 shipments with one
fresh scan apiece (a mix of the statuses rules answer, some exceptions no rule
answers, some customers with an open contact), unmeasured. Then evaluates
every event twice, as a broker redelivering each task would, in batches of
BENCH_NUDGES_BATCH, in shuffled order: measured. Checks that no shipment and
trigger got more than one message, and runs the send path twice over a sample
of the messages to count emails actually handed to the mail backend.

Bounded: BENCH_NUDGES_EVENTS events (default 100,000) on the configured
database; nothing goes to the broker."""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from datetime import timedelta

EVENTS = int(os.environ.get("BENCH_NUDGES_EVENTS", "100000"))
TENANTS = 20
BATCH = int(os.environ.get("BENCH_NUDGES_BATCH", "1000"))
# Evaluation runs on the nudges queue's workers; the benchmark forks as many.
WORKERS = int(os.environ.get("BENCH_NUDGES_WORKERS", str(min(os.cpu_count() or 2, 8))))
SEND_SAMPLE = 1000
TARGET_SECONDS = 60.0
STATUSES = [
    ("in_transit", ""),
    ("out_for_delivery", ""),
    ("delivered", ""),
    ("failed_attempt", "recipient_unavailable"),
    ("exception", "customs_hold"),
    ("exception", "weather_delay"),  # no rule answers it
    ("available_for_pickup", ""),
]


def _seed(now):
    from decimal import Decimal

    from agents.nudges.models import NudgeRule
    from desk.models import Contact
    from integrations.models import Customer, Order, Shipment, TrackingEvent
    from tenants.models import Tenant
    from tests.factories import make_tenant

    stamp = int(time.time())
    for old in Tenant.objects.filter(slug__startswith="bench-nudges-"):
        old.slug = f"bench-old-{stamp}-{old.pk}"
        old.is_active = False
        old.save(update_fields=["slug", "is_active"])
    zones = ["America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney", "UTC"]
    tenants = [
        make_tenant(f"bench-nudges-{i}", name=f"Bench nudges {i}", time_zone=zones[i % len(zones)])
        for i in range(TENANTS)
    ]
    body = {
        "en": {"subject": "Order {{ order_number }}", "body": "Hi {{ first_name }}: {{ status }}"}
    }
    rules = []
    for tenant in tenants:
        for trigger in (
            "shipped",
            "out_for_delivery",
            "delivered",
            "failed_attempt",
            "available_for_pickup",
        ):
            rules.append(
                NudgeRule(tenant=tenant, name=trigger, trigger=trigger, templates=body, cap_count=5)
            )
        rules.append(
            NudgeRule(
                tenant=tenant,
                name="customs",
                trigger="exception",
                substatuses=["customs_hold"],
                templates=body,
                cap_count=5,
            )
        )
    NudgeRule.objects.bulk_create(rules)

    per_tenant = EVENTS // TENANTS
    event_ids: list[int] = []
    for t_index, tenant in enumerate(tenants):
        customers = Customer.objects.bulk_create(
            [
                Customer(tenant=tenant, email=f"c{i}@t{t_index}.example", name=f"Customer {i}")
                for i in range(per_tenant)
            ],
            batch_size=5000,
        )
        orders = Order.objects.bulk_create(
            [
                Order(
                    tenant=tenant,
                    customer=c,
                    number=f"B{i}",
                    email=c.email,
                    currency="USD",
                    subtotal=Decimal("50"),
                    total=Decimal("50"),
                    placed_at=now - timedelta(days=3),
                    shipping_address={"country_code": "US", "province_code": "NY"} if i % 2 else {},
                )
                for i, c in enumerate(customers)
            ],
            batch_size=5000,
        )
        shipments = Shipment.objects.bulk_create(
            [
                Shipment(
                    tenant=tenant,
                    order=o,
                    carrier="ups",
                    tracking_number=f"1ZB{t_index}{i:08d}",
                    status=STATUSES[i % len(STATUSES)][0],
                    substatus=STATUSES[i % len(STATUSES)][1],
                    last_event_at=now - timedelta(minutes=5),
                )
                for i, o in enumerate(orders)
            ],
            batch_size=5000,
        )
        events = TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    shipment=s,
                    occurred_at=s.last_event_at,
                    status=s.status,
                    substatus=s.substatus,
                    carrier_code="B",
                    description="bench scan",
                )
                for s in shipments
            ],
            batch_size=5000,
        )
        event_ids += [e.pk for e in events]
        # One customer in twenty is already talking to the desk.
        Contact.objects.bulk_create(
            [
                Contact(
                    tenant=tenant,
                    order=o,
                    customer=o.customer,
                    customer_email=o.email,
                    subject="Where is it?",
                )
                for o in orders[::20]
            ],
            batch_size=5000,
        )
    return tenants, event_ids


def _evaluate(ids: list[int], now) -> int:
    from agents.nudges.engine import evaluate_events

    return len(evaluate_events(ids, now=now, enqueue=False))


def run() -> list[dict]:
    from bench._django import setup

    setup()
    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.utils import timezone

    from integrations.messaging.actions import send_now
    from integrations.messaging.models import OutboundMessage

    now = timezone.now().replace(hour=15, minute=0)  # daytime in some zones, night in others
    tenants, event_ids = _seed(now)
    deliveries = event_ids * 2
    random.Random(7).shuffle(deliveries)

    batches = [deliveries[i : i + BATCH] for i in range(0, len(deliveries), BATCH)]
    connection.close()  # forked workers open their own
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
        written = sum(pool.starmap(_evaluate, [(b, now) for b in batches]))
    elapsed = time.perf_counter() - started

    tenant_ids = [t.pk for t in tenants]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT shipment_id, trigger FROM integrations_outboundmessage "
            "WHERE tenant_id = ANY(%s) GROUP BY shipment_id, trigger HAVING COUNT(*) > 1) d",
            [tenant_ids],
        )
        duplicates = cursor.fetchone()[0]
    messages = OutboundMessage.objects.filter(tenant_id__in=tenant_ids)
    queued = messages.filter(state="queued").count()
    held = messages.filter(state="queued", send_after__isnull=False).count()
    skipped = messages.filter(state="skipped").count()

    # The send path twice over a sample: each message must reach the backend once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    sample = list(
        messages.filter(state="queued", send_after__isnull=True).values_list("pk", flat=True)[
            :SEND_SAMPLE
        ]
    )
    for message_id in sample + sample:
        send_now(message_id, now=now)
    emails = len(mail.outbox)

    label = f"{len(event_ids)} events x2, {TENANTS} tenants, batches of {BATCH}, {WORKERS} workers"
    rate = round(len(deliveries) / elapsed) if elapsed else 0
    return [
        {
            "metric": f"evaluate {label}",
            "value": round(elapsed, 1),
            "unit": "s",
            "target": f"<= {TARGET_SECONDS:g} s",
            "pass": elapsed <= TARGET_SECONDS and len(event_ids) >= EVENTS,
        },
        {
            "metric": "evaluations per second (deliveries incl. redeliveries)",
            "value": rate,
            "unit": "/s",
            "target": f">= {round(2 * EVENTS / TARGET_SECONDS)}",
            "pass": rate >= 2 * EVENTS / TARGET_SECONDS,
        },
        {
            "metric": f"duplicate messages per shipment and trigger ({written} written: "
            f"{queued - held} due, {held} held for quiet hours, {skipped} skipped)",
            "value": duplicates,
            "unit": "",
            "target": "0",
            "pass": duplicates == 0 and written > 0,
        },
        {
            "metric": f"emails handed to the backend, {len(sample)} messages sent twice",
            "value": emails,
            "unit": "",
            "target": f"= {len(sample)}",
            "pass": emails == len(sample) and len(sample) > 0,
        },
    ]
