"""The agent's tracking tool: what it shows of an order's shipments and scans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.tools import get_tracking
from integrations.models import TrackingEvent
from tests.factories import make_order, make_tenant

pytestmark = pytest.mark.django_db


def test_scans_are_shown_newest_first_with_their_place_and_not_their_raw_payload():
    tenant = make_tenant()
    order = make_order(tenant, shipment_status="in_transit")
    shipment = order.shipments.get()
    TrackingEvent.objects.filter(shipment=shipment).delete()
    now = timezone.now()
    for hours, status, city in [(30, "in_transit", "Memphis"), (2, "out_for_delivery", "Austin")]:
        TrackingEvent.objects.create(
            shipment=shipment,
            occurred_at=now - timedelta(hours=hours),
            status=status,
            description=f"Scan in {city}",
            city=city,
            region="TX" if city == "Austin" else "TN",
            country="US",
            raw={"carrier_payload": "x" * 4000},
        )

    with CaptureQueriesContext(connection) as queries:
        [shown] = get_tracking(order)

    assert shown["tracking_number"] == shipment.tracking_number
    assert [(e["status"], e["location"]) for e in shown["events"]] == [
        ("out_for_delivery", "Austin, TX, US"),
        ("in_transit", "Memphis, TN, US"),
    ]
    assert shown["events"][0]["occurred_at"] == (now - timedelta(hours=2)).isoformat()
    # The carrier's raw event is never read for the agent's evidence.
    scan_reads = [q["sql"] for q in queries.captured_queries if "trackingevent" in q["sql"]]
    assert scan_reads and all('"raw"' not in sql for sql in scan_reads)
