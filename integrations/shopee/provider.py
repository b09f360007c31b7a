from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.providers import CredentialField, ProviderSpec
from integrations.shopee import webhooks
from integrations.webhooks import WebhookProvider, body_digest


def check(connection) -> str:
    """One read: the shop's own profile."""
    from integrations.commerce import ExecutionError
    from integrations.shopee.client import ShopeeClient

    try:
        client = ShopeeClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        shop = client.shop_info()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    return f"Reached {shop.get('shop_name', '?')} ({shop.get('region', '?')}, {shop.get('status', '?')})."


PROVIDERS = (
    ProviderSpec(
        code="shopee",
        name="Shopee",
        kind="commerce",
        fields=(
            CredentialField("partner_id", "Partner id"),
            CredentialField("partner_key", "Partner key", "Also signs pushes", secret=True),
            CredentialField("access_token", "Shop access token", secret=True),
            CredentialField("shop_id", "Shop id"),
        ),
        check=check,
        # Shopee sends no delivery id or topic header: the push code is in the body.
        webhook=WebhookProvider(
            "Authorization",
            "",
            "",
            webhooks.process,
            verify_request=webhooks.verify,
            # Shopee names no delivery: the same bytes are the same push.
            delivery_id_from=body_digest,
        ),
        adapter="integrations.shopee.adapter.ShopeeAdapter",
    ),
)
