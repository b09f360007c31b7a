"""A burst of refunds through the fake shop: what the load test and the benchmark share.

A shop with paid orders on both sides (our mirror and the fake's ledger),
workers refunding every order at once through the refund executor (as the
actions queue does at peak), and the figures both check: the share of what
the shop's bucket allowed in the time taken, and how many refunds the shop
made for each order."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from django.db import connection as db_connection
from django.utils import timezone

from integrations import executors
from integrations.models import Connection, Order
from integrations.ratelimit import SharedBucket
from integrations.shopify import client as shopify_client
from tests.factories import make_tenant
from tests.integrations.shopify.conftest import deliver, load
from tests.integrations.shopify.fake_shop import COSTS, FakeShop

WORKERS = 8
PAID = Decimal("100.00")
REFUND = Decimal("10.00")
# Each refund reads the order's transactions, then creates the refund.
POINTS_PER_REFUND = COSTS["DeskOrderTransactions"][1] + COSTS["DeskRefundCreate"][1]
WEBHOOK_SECRET = "whsec"


def endpoint(base: str) -> str:
    """The Admin API endpoint template pointing every shop at the fake."""
    return base + "/{shop}/admin/api/{version}/graphql.json"


def use_fake(base: str) -> str:
    """Point the Shopify client at the fake; returns the endpoint it replaced."""
    previous = shopify_client.ENDPOINT
    shopify_client.ENDPOINT = endpoint(base)
    return previous


def shop_with_orders(fake: FakeShop, count: int, *, tenant=None) -> tuple[Connection, list[Order]]:
    """A Shopify connection to a fresh fake shop with ``count`` paid orders."""
    shop = f"fake-{uuid.uuid4().hex[:8]}.myshopify.com"
    SharedBucket(f"shopify:{shop}").reset()
    tenant = tenant or make_tenant()
    connection = Connection.objects.create(
        tenant=tenant,
        provider=Connection.Provider.SHOPIFY,
        kind=Connection.Kind.COMMERCE,
        name="Fake Shopify",
        credentials={"shop": shop, "access_token": "shpat_fake", "webhook_secret": WEBHOOK_SECRET},
    )
    Order.objects.bulk_create(
        Order(
            tenant=tenant,
            connection=connection,
            external_id=str(10_000 + i),
            number=str(1000 + i),
            email=f"buyer{i}@example.com",
            currency="USD",
            subtotal=PAID,
            total=PAID,
            placed_at=timezone.now() - timedelta(days=3),
        )
        for i in range(count)
    )
    orders = list(
        Order.objects.filter(connection=connection)
        .select_related("connection", "tenant")
        .order_by("pk")
    )
    for order in orders:
        fake.paid[order_gid(order)] = PAID
    return connection, orders


def order_gid(order: Order) -> str:
    return f"gid://shopify/Order/{order.external_id}"


def refund_all(orders: list[Order], *, workers: int = WORKERS) -> list[Exception]:
    """Refund every order once, ``workers`` at a time; the errors callers would see."""
    return [error for _, error in _refund_each(orders, workers)]


def refund_as_retried(orders: list[Order], *, tries: int = 3) -> list[Exception]:
    """Refund every order as the execution task does: one whose store call failed for a
    passing reason (the shop unavailable, an answer lost, five times in a row) is tried
    again, up to ``tries`` rounds. The errors left at the end."""
    failed = _refund_each(orders, WORKERS)
    for _ in range(tries - 1):
        if not failed:
            break
        failed = _refund_each([order for order, _ in failed], WORKERS)
    return [error for _, error in failed]


def _refund_each(orders: list[Order], workers: int) -> list[tuple[Order, Exception]]:
    failed: list[tuple[Order, Exception]] = []

    def refund(order: Order) -> None:
        try:
            executors.refund(
                order, REFUND, idempotency_key=f"proposal-{order.number}", note="damaged"
            )
        except Exception as exc:
            failed.append((order, exc))
        finally:
            db_connection.close()

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(refund, orders))
    return failed


def is_throttling(error: Exception) -> bool:
    """A refund that failed because of the shop's rate limit (ours or Shopify's)."""
    text = str(error).lower()
    return "throttl" in text or "rate limit" in text


def allowed_refunds(fake: FakeShop, elapsed: float) -> float:
    """The most refunds the shop's limit allows in ``elapsed`` seconds: a full
    bucket to start with, plus what refilled."""
    return (fake.capacity + fake.restore_rate * elapsed) / POINTS_PER_REFUND


def refunds_per_order(fake: FakeShop, orders: list[Order]) -> Counter:
    """How many refunds the shop made for each order (0 for those it never refunded)."""
    made = Counter(refund["orderId"] for refund in fake.refunds.values())
    return Counter({order_gid(order): made[order_gid(order)] for order in orders})


def redeliver_refund_webhooks(client, connection: Connection, fake: FakeShop) -> list[int]:
    """Send Shopify's refunds/create webhook for every refund the shop made, twice
    under its delivery id and once more under a new one (Shopify resends an event
    so); returns the status of every delivery."""
    template = load("refunds_create.json")
    statuses = []
    for refund in list(fake.refunds.values()):
        payload = dict(template)
        payload["id"] = int(refund["legacyResourceId"])
        payload["order_id"] = int(refund["orderId"].rsplit("/", 1)[-1])
        payload["transactions"] = [
            {**template["transactions"][0], "amount": str(REFUND), "currency": "USD"}
        ]
        body = json.dumps(payload).encode()
        for webhook_id in (f"refund-{payload['id']}",) * 2 + (str(uuid.uuid4()),):
            response = deliver(
                client,
                connection,
                "refunds/create",
                body,
                secret=WEBHOOK_SECRET,
                webhook_id=webhook_id,
            )
            statuses.append(response.status_code)
    return statuses
