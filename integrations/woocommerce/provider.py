from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider
from integrations.woocommerce import webhooks


def check_woocommerce(connection) -> str:
    """One read of the store's system status (GET /wp-json/wc/v3/system_status)."""
    from integrations.commerce import ExecutionError
    from integrations.woocommerce.client import WooCommerceClient

    try:
        client = WooCommerceClient.for_credentials(
            connection.credentials, max_attempts=2, budget=10
        )
        status = client.system_status()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    environment = status.get("environment") or {}
    return (
        f"Reached {environment.get('site_url', '?')} "
        f"(WooCommerce {environment.get('version', '?')})."
    )


PROVIDERS = (
    ProviderSpec(
        code="woocommerce",
        name="WooCommerce",
        kind="commerce",
        fields=(
            CredentialField("store_url", "Store address", "https://shop.example.com"),
            CredentialField("consumer_key", "Consumer key", "ck_…"),
            CredentialField("consumer_secret", "Consumer secret", "cs_…", secret=True),
            CredentialField(
                "webhook_secret", "Webhook secret", "The secret set on each webhook", secret=True
            ),
        ),
        check=check_woocommerce,
        webhook=WebhookProvider(
            "X-WC-Webhook-Signature",
            "X-WC-Webhook-Delivery-ID",
            "X-WC-Webhook-Topic",
            webhooks.process,
        ),
        adapter="integrations.woocommerce.adapter.WooCommerceAdapter",
    ),
)
