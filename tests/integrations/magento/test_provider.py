"""The Magento providers as the connections page sees them: test connection, credentials."""

from __future__ import annotations

import httpx
import pytest
import respx

from integrations import connection_checks, providers
from integrations.magento.provider import validate
from tests.integrations.magento.conftest import API, page

pytestmark = pytest.mark.django_db


@respx.mock
def test_test_connection_reads_one_order_row(magento_connection):
    route = respx.get(f"{API}/orders").mock(
        return_value=httpx.Response(200, json=page([{"entity_id": 3}], total=412))
    )
    result = connection_checks.check(magento_connection)
    assert result.ok, result.message
    assert "412 orders" in result.message
    assert "searchCriteria%5BpageSize%5D=1" in str(route.calls.last.request.url)


@respx.mock
def test_test_connection_reports_magentos_refusal(adobe_connection):
    respx.get(f"{API}/orders").mock(
        return_value=httpx.Response(
            401,
            json={
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Magento_Sales::sales"},
            },
        )
    )
    result = connection_checks.check(adobe_connection)
    assert not result.ok
    assert "Magento_Sales::sales" in result.message
    adobe_connection.refresh_from_db()
    assert adobe_connection.last_check_ok is False


def test_signed_requests_need_all_three_oauth_values():
    assert validate({"access_token": "t"}) == {}
    assert (
        validate(
            {
                "access_token": "t",
                "consumer_key": "k",
                "consumer_secret": "s",
                "access_token_secret": "x",
            }
        )
        == {}
    )
    assert "access_token_secret" in validate(
        {"access_token": "t", "consumer_key": "k", "consumer_secret": "s"}
    )


def test_only_adobe_commerce_takes_webhooks():
    assert providers.webhook("adobe_commerce") is not None
    assert providers.webhook("magento") is None
    assert "io_client_id" in [f.name for f in providers.get("adobe_commerce").fields]
