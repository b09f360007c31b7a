from __future__ import annotations

import pytest
from django.core.cache import cache

from integrations.models import Shipment
from integrations.ratelimit import SharedBucket
from tests.factories import make_order, make_tenant


@pytest.fixture
def tenant_shipment(db):
    tenant = make_tenant()
    order = make_order(tenant, shipment_status=None)
    return Shipment.objects.create(
        tenant=tenant, order=order, carrier="usps", tracking_number="9400109104250532908587"
    )


def _forget_token(client) -> None:
    # Clients cache OAuth tokens in Django's cache, shared with other users of Redis.
    if hasattr(client, "tokens"):
        client.tokens.forget()
    if hasattr(client, "_token_key"):
        cache.delete(client._token_key)


@pytest.fixture
def bucket(request):
    """A bucket generous enough that client tests never wait, reset so runs share no level."""
    b = SharedBucket(f"test-{request.module.__name__}", capacity=1000, restore_rate=1000)
    b.reset()
    yield b
    b.reset()


@pytest.fixture
def make(bucket):
    """Build a carrier client on the generous bucket; forget its cached token before and after."""
    made = []

    def build(client_class, credentials):
        client = client_class(credentials, bucket=bucket)
        _forget_token(client)
        made.append(client)
        return client

    yield build
    for client in made:
        _forget_token(client)
        client.close()
