"""Refunds through a fake Shopify that enforces the standard plan's cost limits.

Workers refund many orders at once, as the actions queue does at peak. The
shared per-shop bucket turns the burst into a queue: no refund fails for
being throttled, the shop's bucket is used to the full, and each refund is
made once even when answers are lost and tasks and webhooks are redelivered.
Set SHOPIFY_FAKE_REFUNDS=1000 for the full-size run (about four minutes).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from integrations import executors
from integrations.models import Connection, Order, Refund
from integrations.ratelimit import SharedBucket
from integrations.shopify import client as shopify_client
from tests.factories import make_tenant
from tests.integrations.shopify.conftest import deliver, load
from tests.integrations.shopify.fake_shop import COSTS, FakeShop

REFUNDS = int(os.environ.get("SHOPIFY_FAKE_REFUNDS", "120"))
WORKERS = 8
POINTS_PER_REFUND = COSTS["DeskOrderTransactions"][1] + COSTS["DeskRefundCreate"][1]


def _shop_with_orders(fake: FakeShop, count: int) -> tuple[Connection, list[Order]]:
    shop = f"fake-{uuid.uuid4().hex[:8]}.myshopify.com"
    SharedBucket(f"shopify:{shop}").reset()
    tenant = make_tenant()
    connection = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Fake Shopify",
        credentials={"shop": shop, "access_token": "shpat_fake", "webhook_secret": "whsec"},
    )
    orders = Order.objects.bulk_create(
        Order(
            tenant=tenant,
            connection=connection,
            external_id=str(10_000 + i),
            number=str(1000 + i),
            email=f"buyer{i}@example.com",
            currency="USD",
            subtotal=Decimal("100.00"),
            total=Decimal("100.00"),
            placed_at=timezone.now() - timedelta(days=3),
        )
        for i in range(count)
    )
    for order in orders:
        fake.paid[f"gid://shopify/Order/{order.external_id}"] = Decimal("100.00")
    return connection, list(
        Order.objects.filter(connection=connection).select_related("connection", "tenant")
    )


def _refund_all(orders: list[Order]) -> list[Exception]:
    errors: list[Exception] = []

    def refund(order: Order) -> None:
        try:
            executors.refund(
                order, Decimal("10.00"), idempotency_key=f"proposal-{order.number}", note="damaged"
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            db_connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(refund, orders))
    return errors


@pytest.fixture
def fake_shop(monkeypatch):
    shops: list[FakeShop] = []

    def start(**options) -> FakeShop:
        shop = FakeShop(**options)
        base = shop.start()
        monkeypatch.setattr(
            shopify_client, "ENDPOINT", base + "/{shop}/admin/api/{version}/graphql.json"
        )
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stop()


def test_a_burst_of_refunds_queues_instead_of_failing_and_uses_the_limit(
    transactional_db, fake_shop
):
    fake = fake_shop()
    _, orders = _shop_with_orders(fake, REFUNDS)

    started = time.monotonic()
    errors = _refund_all(orders)
    elapsed = time.monotonic() - started

    assert errors == []
    assert len(fake.refunds) == REFUNDS
    assert Refund.objects.filter(order__in=orders).count() == REFUNDS
    # The most the standard plan allows in that time: a full bucket plus what
    # refilled. Queueing must not waste it.
    allowed = (fake.capacity + fake.restore_rate * elapsed) / POINTS_PER_REFUND
    print(  # kept in the test log: the figure the issue asks for
        f"{REFUNDS} refunds in {elapsed:.1f}s = {REFUNDS / allowed:.1%} of the allowed "
        f"throughput; {fake.throttled} throttled answers absorbed"
    )
    assert REFUNDS / allowed >= 0.9, f"{REFUNDS} refunds in {elapsed:.1f}s, {allowed:.0f} allowed"
    # The shared bucket predicts Shopify's: it seldom has to say no.
    assert fake.throttled <= REFUNDS * 0.1


def test_lost_answers_and_redeliveries_still_refund_each_order_once(
    transactional_db, fake_shop, client
):
    fake = fake_shop(lose_answer_rate=0.15, unavailable_rate=0.05, seed=11)
    connection, orders = _shop_with_orders(fake, 40)

    assert _refund_all(orders) == []
    assert fake.lost_answers > 0 and fake.unavailable > 0  # the faults really happened
    # The task queue redelivers every task, and Shopify sends each refund's webhook twice.
    assert _refund_all(orders) == []
    template = load("refunds_create.json")
    for refund in fake.refunds.values():
        payload = dict(template)
        payload["id"] = int(refund["legacyResourceId"])
        payload["order_id"] = int(refund["orderId"].rsplit("/", 1)[-1])
        payload["transactions"] = [
            {**template["transactions"][0], "amount": "10.00", "currency": "USD"}
        ]
        body = json.dumps(payload).encode()
        for _ in range(2):
            assert (
                deliver(
                    client,
                    connection,
                    "refunds/create",
                    body,
                    secret="whsec",
                    webhook_id=f"refund-{payload['id']}",
                ).status_code
                == 200
            )
        # Shopify may also resend the same event under a new delivery id.
        deliver(
            client, connection, "refunds/create", body, secret="whsec", webhook_id=str(uuid.uuid4())
        )

    assert len(fake.refunds) == 40
    assert all(amount == Decimal("10.00") for amount in fake.refunded.values())
    mirrored = Refund.objects.filter(order__in=orders)
    assert mirrored.count() == 40
    assert {r.idempotency_key for r in mirrored} == {f"proposal-{o.number}" for o in orders}
