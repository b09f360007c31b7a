"""Magento 2 Open Source and Adobe Commerce: one client, two declared providers.

Adobe Commerce adds returns (RMA) and publishes events through Adobe I/O
Events; Magento Open Source has neither, so its connection has no webhook
and its orders are read from the store when the desk needs them.
"""

from __future__ import annotations

from typing import Any

from integrations.connection_checks import CheckFailed
from integrations.magento import webhooks
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider


def check_magento(connection) -> str:
    """One read of a single order row: proves the URL, the credentials and
    the integration's access to sales data in one call."""
    from integrations.commerce import ExecutionError
    from integrations.magento.client import MagentoClient, search_params

    try:
        client = MagentoClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        body = client.request("GET", "orders", params=search_params(page_size=1))
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    count = (body or {}).get("total_count", "?")
    return f"Reached {client.base_url}: {count} orders visible to the integration."


def validate(values: dict[str, Any]) -> dict[str, str]:
    oauth = ("consumer_key", "consumer_secret", "access_token_secret")
    given = [name for name in oauth if values.get(name)]
    if given and len(given) != len(oauth):
        missing = next(name for name in oauth if not values.get(name))
        return {missing: "Signed requests need the consumer key, consumer secret and token secret."}
    return {}


FIELDS = (
    CredentialField("base_url", "Store URL", "https://shop.example.com"),
    CredentialField(
        "store_code", "Store view code", "Leave empty for the default store view", required=False
    ),
    CredentialField("access_token", "Integration access token", secret=True),
    CredentialField(
        "consumer_key",
        "Consumer key",
        "Only when the store does not accept the access token as a bearer token",
        required=False,
    ),
    CredentialField("consumer_secret", "Consumer secret", secret=True, required=False),
    CredentialField("access_token_secret", "Access token secret", secret=True, required=False),
)

PROVIDERS = (
    ProviderSpec(
        code="magento",
        name="Magento Open Source",
        kind="commerce",
        fields=FIELDS,
        check=check_magento,
        validate=validate,
        adapter="integrations.magento.adapter.MagentoAdapter",
        notes="No outbound webhooks: orders are read from the store on demand.",
    ),
    ProviderSpec(
        code="adobe_commerce",
        name="Adobe Commerce",
        kind="commerce",
        fields=(
            *FIELDS,
            CredentialField(
                "io_client_id",
                "Adobe I/O client id",
                "The event registration's client id; events for any other are refused",
            ),
        ),
        check=check_magento,
        validate=validate,
        webhook=WebhookProvider(
            "x-adobe-digital-signature-1",
            "x-adobe-event-id",
            "x-adobe-event-code",
            webhooks.process,
            verify_request=webhooks.verify_request,
            handshake=webhooks.answer_challenge,
        ),
        adapter="integrations.magento.adapter.AdobeCommerceAdapter",
    ),
)
