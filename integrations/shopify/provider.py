from __future__ import annotations

from integrations.connection_checks import check_shopify
from integrations.providers import CredentialField, ProviderSpec
from integrations.shopify import webhooks
from integrations.webhooks import WebhookProvider

PROVIDERS = (
    ProviderSpec(
        code="shopify",
        name="Shopify",
        kind="commerce",
        fields=(
            CredentialField(
                "shop_domain", "Shop domain", "example.myshopify.com", stored_as="shop"
            ),
            CredentialField("access_token", "Admin API access token", secret=True),
            CredentialField(
                "webhook_secret", "Webhook secret", "The app's API secret key", secret=True
            ),
        ),
        check=check_shopify,
        webhook=WebhookProvider(
            "X-Shopify-Hmac-Sha256",
            "X-Shopify-Webhook-Id",
            "X-Shopify-Topic",
            webhooks.process,
            triggered_at_header="X-Shopify-Triggered-At",
        ),
        adapter="integrations.shopify.adapter.ShopifyAdapter",
    ),
)
