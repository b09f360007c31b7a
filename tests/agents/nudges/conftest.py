"""The merchant and the parcel most nudge tests are about."""

from __future__ import annotations

import pytest

from tests.factories import make_customer, make_order, make_tenant


@pytest.fixture
def tenant():
    return make_tenant(time_zone="UTC")


@pytest.fixture
def shipment(tenant):
    """An in-transit parcel of Ada's, who has an email address and a phone number."""
    customer = make_customer(
        tenant, email="ada@example.com", name="Ada Lovelace", phone="+1 415 555 2345"
    )
    return make_order(tenant, customer=customer, shipment_status="in_transit").shipments.get()
