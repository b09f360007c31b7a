from __future__ import annotations

from integrations.bigcommerce import webhooks
from integrations.connection_checks import CheckFailed
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider, body_digest


def check_bigcommerce(connection) -> str:
    """One read of the store's profile (GET /v2/store)."""
    from integrations.bigcommerce.client import BigCommerceClient
    from integrations.commerce import ExecutionError

    try:
        client = BigCommerceClient.for_credentials(
            connection.credentials, max_attempts=2, budget=10
        )
        store = client.store()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    return f"Reached {store.get('name', '?')} ({store.get('domain', '?')})."


PROVIDERS = (
    ProviderSpec(
        code="bigcommerce",
        name="BigCommerce",
        kind="commerce",
        fields=(
            CredentialField("store_hash", "Store hash", "The code after /stores/ in the API path"),
            CredentialField("access_token", "API account access token", secret=True),
            CredentialField(
                "webhook_secret",
                "Webhook token",
                "Sent back by BigCommerce in the X-Desk-Webhook-Token header of each hook",
                secret=True,
            ),
        ),
        check=check_bigcommerce,
        webhook=WebhookProvider(
            webhooks.HOOK_HEADER,
            # BigCommerce sends no delivery id; the body's hash names the event.
            "X-Desk-Delivery-Id",
            webhooks.SCOPE_HEADER,
            webhooks.process,
            verify=webhooks.verify_token,
            delivery_id_from=lambda raw, payload: (
                str(payload.get("hash") or "") or body_digest(raw, payload)
            ),
        ),
        adapter="integrations.bigcommerce.adapter.BigCommerceAdapter",
    ),
)
