"""Refunds through a fake Shopify that enforces the standard plan's cost limits.

Workers refund many orders at once, as the actions queue does at peak. The
shared per-shop bucket turns the burst into a queue: no refund fails for
being throttled, the shop's bucket is used to the full, and each refund is
made once even when answers are lost and tasks and webhooks are redelivered.
Set SHOPIFY_FAKE_REFUNDS=1000 for the full-size run (about four minutes).
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from integrations.models import Refund
from tests.integrations.shopify import refund_burst
from tests.integrations.shopify.fake_shop import FakeShop

REFUNDS = int(os.environ.get("SHOPIFY_FAKE_REFUNDS", "120"))


@pytest.fixture
def fake_shop(monkeypatch):
    shops: list[FakeShop] = []

    def start(**options) -> FakeShop:
        shop = FakeShop(**options)
        base = shop.start()
        monkeypatch.setattr(refund_burst.shopify_client, "ENDPOINT", refund_burst.endpoint(base))
        shops.append(shop)
        return shop

    yield start
    for shop in shops:
        shop.stop()


def test_a_burst_of_refunds_queues_instead_of_failing_and_uses_the_limit(
    transactional_db, fake_shop
):
    fake = fake_shop()
    _, orders = refund_burst.shop_with_orders(fake, REFUNDS)

    started = time.monotonic()
    errors = refund_burst.refund_all(orders)
    elapsed = time.monotonic() - started

    assert errors == []
    assert len(fake.refunds) == REFUNDS
    assert Refund.objects.filter(order__in=orders).count() == REFUNDS
    # The most the standard plan allows in that time: a full bucket plus what
    # refilled. Queueing must not waste it.
    allowed = refund_burst.allowed_refunds(fake, elapsed)
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
    connection, orders = refund_burst.shop_with_orders(fake, 40)

    # One store call in five fails here (lost answers and 503s), so now and then an
    # order fails all five attempts of a call; the execution task tries it again.
    assert refund_burst.refund_as_retried(orders) == []
    assert fake.lost_answers > 0 and fake.unavailable > 0  # the faults really happened
    # The task queue redelivers every task, and Shopify sends each refund's webhook
    # twice, then once more under a new delivery id.
    assert refund_burst.refund_as_retried(orders) == []
    statuses = refund_burst.redeliver_refund_webhooks(client, connection, fake)

    assert statuses == [200] * 3 * 40
    assert set(refund_burst.refunds_per_order(fake, orders).values()) == {1}
    assert all(amount == Decimal("10.00") for amount in fake.refunded.values())
    mirrored = Refund.objects.filter(order__in=orders)
    assert mirrored.count() == 40
    assert {r.idempotency_key for r in mirrored} == {f"proposal-{o.number}" for o in orders}
