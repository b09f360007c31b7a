"""Finding the order a customer names: by its number as typed, among all of the merchant's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.access import find_order
from integrations.models import Order
from tests.agents.helpers import analyze, rows_read
from tests.factories import make_customer, make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_an_order_is_found_by_the_number_as_the_customer_typed_it():
    tenant = make_tenant()
    order = make_order(tenant, number="AB-1042")

    assert find_order(tenant, "#ab-1042") == order
    assert find_order(tenant, " ab1042") is None
    assert find_order(make_tenant(), "AB-1042") is None
    assert find_order(tenant, "#") is None


def test_finding_an_order_reads_that_order_not_the_merchant_s_others():
    # Every contact that names an order looks it up: a merchant with a long history
    # must not make each of them read all of its orders.
    tenant = make_tenant()
    customer = make_customer(tenant)
    Order.objects.bulk_create(
        Order(
            tenant=tenant,
            customer=customer,
            number=f"B{n}",
            email=customer.email,
            currency="USD",
            subtotal=10,
            total=10,
            placed_at=timezone.now(),
        )
        for n in range(3_000)
    )
    analyze("integrations_order")

    with CaptureQueriesContext(connection) as queries:
        found = find_order(tenant, "#b2999")

    assert found.number == "B2999"
    (lookup,) = queries.captured_queries
    assert rows_read(lookup["sql"], None, "integrations_order") <= 1
