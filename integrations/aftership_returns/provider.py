from __future__ import annotations

from integrations.aftership_returns import webhooks
from integrations.aftership_returns.client import AfterShipReturnsClient
from integrations.commerce import ExecutionError
from integrations.connection_checks import CheckFailed
from integrations.models import Connection
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider


def check(connection: Connection) -> str:
    try:
        client = AfterShipReturnsClient.for_credentials(
            connection.credentials,
            bucket_name=str(connection.public_id),
            budget=10,
            max_attempts=2,
        )
        data = client.first_page_of_returns()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    total = (data.get("pagination") or {}).get("total")
    held = f"{total} returns in the last year" if total is not None else "its returns"
    return f"Reached AfterShip Returns: {held}."


PROVIDERS = (
    ProviderSpec(
        code="aftership_returns",
        name="AfterShip Returns",
        kind="cx",
        fields=(
            CredentialField("api_key", "API key", "Organization API key (as-api-key)", secret=True),
            CredentialField(
                "webhook_secret",
                "Webhook secret",
                "From the webhook settings of AfterShip Returns",
                secret=True,
            ),
            CredentialField(
                "store_id",
                "Store id at AfterShip",
                "The store's identifier on its platform, as AfterShip knows it",
            ),
            CredentialField(
                "store_platform",
                "Store platform",
                "shopify, bigcommerce, magento-2, woocommerce, sfcc… (empty: the order's store)",
                required=False,
            ),
        ),
        check=check,
        webhook=WebhookProvider(
            webhooks.SIGNATURE_HEADER,
            "",
            "",
            webhooks.process,
            verify_request=webhooks.verify,
            delivery_id_from=webhooks.delivery_id,
        ),
        adapter="integrations.aftership_returns.adapter.AfterShipReturnsAdapter",
    ),
)
