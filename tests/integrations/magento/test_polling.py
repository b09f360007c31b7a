"""Magento Open Source has no webhooks: beat polls each store for orders
updated since its cursor and mirrors them, stale-safe, through the store's
shared rate limit."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from django.conf import settings

from integrations.magento import polling
from integrations.models import Order, Shipment
from integrations.tasks import poll_store_orders
from tests.integrations.magento.conftest import API, load, page

pytestmark = pytest.mark.django_db

UPDATED = "searchCriteria[filter_groups][0][filters][0]"


def _order(**changes) -> dict:
    order = load("order.json")
    order.update(changes)
    return order


def _store(orders: list[dict]) -> respx.Route:
    respx.get(f"{API}/shipments").mock(
        return_value=httpx.Response(200, json=load("shipments.json"))
    )
    respx.get(f"{API}/creditmemos").mock(return_value=httpx.Response(200, json=page([])))
    return respx.get(f"{API}/orders").mock(return_value=httpx.Response(200, json=page(orders)))


def test_beat_runs_the_poll_on_the_actions_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["poll-store-orders"]
    assert entry["task"] == poll_store_orders.name == "integrations.poll_store_orders"
    assert settings.CELERY_TASK_ROUTES["integrations.*"]["queue"] == "actions"


@respx.mock
def test_a_poll_mirrors_orders_changed_since_the_cursor_and_moves_it(magento_connection):
    search = _store([_order()])
    stats = poll_store_orders()
    assert stats == {"stores": 1, "orders": 1, "failed": {}}

    asked = search.calls.last.request.url.params
    assert asked[f"{UPDATED}[field]"] == "updated_at"
    assert asked[f"{UPDATED}[condition_type]"] == "gteq"
    assert asked["searchCriteria[sortOrders][0][direction]"] == "ASC"
    order = Order.objects.get()
    assert order.number == "000000003" and order.connection == magento_connection
    assert Shipment.objects.filter(order=order).exists()
    assert polling.cursor(magento_connection) == datetime(2026, 6, 29, 9, 12, 5, tzinfo=UTC)

    # The next run starts at the cursor, not a day back.
    poll_store_orders()
    assert search.calls.last.request.url.params[f"{UPDATED}[value]"] == "2026-06-29 09:12:05"


@respx.mock
def test_an_older_read_never_overwrites_newer_state_nor_moves_the_cursor_back(
    magento_connection,
):
    _store([_order(state="complete", status="complete", updated_at="2026-06-30 10:00:00")])
    poll_store_orders()
    _store([_order(status="processing", updated_at="2026-06-29 09:12:05")])
    poll_store_orders()
    order = Order.objects.get()
    assert (order.raw["status"], order.fulfillment_status) == ("complete", "fulfilled")
    assert polling.cursor(magento_connection) == datetime(2026, 6, 30, 10, 0, tzinfo=UTC)


@respx.mock
def test_a_store_that_fails_keeps_its_cursor_and_others_are_still_polled(magento_connection):
    from tests.integrations.magento.conftest import _connection

    other = _connection("magento", base_url="https://other.example.test")
    respx.get("https://other.example.test/rest/V1/orders").mock(
        return_value=httpx.Response(
            401, json={"message": "The consumer isn't authorized to access %resources."}
        )
    )
    _store([_order()])
    stats = poll_store_orders()
    assert stats["orders"] == 1
    assert "isn't authorized" in stats["failed"][str(other.public_id)]
    assert polling.cursor(other) is None
    assert Order.objects.filter(connection=magento_connection).count() == 1


@respx.mock
def test_adobe_commerce_stores_are_not_polled_they_send_events(adobe_connection):
    search = _store([_order()])
    assert poll_store_orders() == {"stores": 0, "orders": 0, "failed": {}}
    assert not search.called
