"""'Test connection': one read-only call with the stored credentials, its answer
kept on the connection and shown with the webhook health of the last day.
Providers' answers are shaped as their documentation shows them."""

from __future__ import annotations

import httpx
import pytest
import respx

from integrations import connection_checks
from integrations.models import Connection, WebhookEvent
from tenants.roles import Role
from tests.factories import log_in, make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    return make_tenant()


def _connection(tenant, provider, kind, **credentials):
    return Connection.objects.create(
        tenant=tenant, provider=provider, kind=kind, name=provider, credentials=credentials
    )


def test_twilio_account_is_reached_with_the_stored_credentials(tenant):
    twilio = _connection(tenant, "twilio", "messaging", account_sid="AC123", auth_token="tok")
    with respx.mock(assert_all_called=True) as api:
        route = api.get("https://api.twilio.com/2010-04-01/Accounts/AC123.json").respond(
            200,
            json={"sid": "AC123", "friendly_name": "Northwind care", "status": "active"},
        )
        result = connection_checks.check(twilio)
    assert result.ok
    assert result.message == "Reached Twilio account Northwind care (active)."
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")
    twilio.refresh_from_db()
    assert twilio.last_check_ok is True
    assert twilio.last_checked_at is not None


def test_refused_credentials_fail_with_the_providers_own_words(tenant):
    twilio = _connection(tenant, "twilio", "messaging", account_sid="AC123", auth_token="bad")
    with respx.mock() as api:
        api.get("https://api.twilio.com/2010-04-01/Accounts/AC123.json").respond(
            401,
            json={
                "code": 20003,
                "message": "Authenticate",
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": 401,
            },
        )
        result = connection_checks.check(twilio)
    assert not result.ok
    assert "401" in result.message and "Authenticate" in result.message
    twilio.refresh_from_db()
    assert twilio.last_check_ok is False


def test_an_unreachable_provider_fails_clearly(tenant):
    whatsapp = _connection(
        tenant, "whatsapp", "messaging", phone_number_id="106540352242922", access_token="t"
    )
    with respx.mock() as api:
        api.get("https://graph.facebook.com/v21.0/106540352242922").mock(
            side_effect=httpx.ConnectError("connection refused")
        )
        result = connection_checks.check(whatsapp)
    assert not result.ok
    assert result.message.startswith("Could not reach the provider")


def test_shopify_shop_is_named(tenant):
    shop = _connection(
        tenant,
        "shopify",
        "commerce",
        shop="northwind.myshopify.com",
        access_token="shpat_x",
        webhook_secret="w",
    )
    with respx.mock(assert_all_called=True) as api:
        api.post(
            url__regex=r"https://northwind\.myshopify\.com/admin/api/.*/graphql\.json"
        ).respond(
            200,
            json={
                "data": {
                    "shop": {"name": "Northwind", "myshopifyDomain": "northwind.myshopify.com"}
                },
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 1,
                        "actualQueryCost": 1,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1999,
                            "restoreRate": 100.0,
                        },
                    }
                },
            },
        )
        result = connection_checks.check(shop)
    assert result.ok, result.message
    assert result.message == "Reached Northwind (northwind.myshopify.com)."


def test_the_page_tests_a_connection_and_shows_webhook_health(client, tenant):
    feed = _connection(tenant, "sandbox_carrier", "carrier", webhook_secret="s")
    WebhookEvent.objects.create(connection=feed, provider="sandbox_carrier", body="{}")
    WebhookEvent.objects.create(
        connection=feed, provider="sandbox_carrier", body="{", status="rejected"
    )
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    response = client.post(f"/t/{tenant.slug}/connections/{feed.public_id}/test/", follow=True)
    page = response.content.decode()
    assert "Built in: nothing to reach." in page
    assert "2 received, 1 not applied" in page
    assert tenant.audit_events.filter(verb="connection.test").exists()


def test_another_merchants_connection_cannot_be_tested(client, tenant):
    other = make_tenant()
    theirs = _connection(other, "sandbox_carrier", "carrier", webhook_secret="s")
    log_in(client, make_member(tenant, Role.ACCOUNT_MANAGER))
    assert client.post(f"/t/{tenant.slug}/connections/{theirs.public_id}/test/").status_code == 404
