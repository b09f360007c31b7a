from __future__ import annotations

import pytest

from integrations.models import Shipment
from tests.factories import make_order, make_tenant


@pytest.fixture
def tenant_shipment(db):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status=None)
    return Shipment.objects.create(
        tenant=tenant, order=order, carrier="usps", tracking_number="9400109104250532908587"
    )
