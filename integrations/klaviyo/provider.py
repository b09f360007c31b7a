from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.klaviyo.client import KlaviyoClient, KlaviyoError
from integrations.providers import CredentialField, ProviderSpec


def check_klaviyo(connection) -> str:
    """Read the account the private key belongs to (Get Accounts, read-only)."""
    try:
        account = KlaviyoClient.for_credentials(connection.credentials).account()
    except KlaviyoError as exc:
        raise CheckFailed(exc.message) from exc
    contact = (account.get("attributes") or {}).get("contact_information") or {}
    name = contact.get("organization_name") or contact.get("default_sender_name") or "?"
    return f"Reached Klaviyo account {name} ({account.get('id', '?')})."


PROVIDERS = (
    ProviderSpec(
        code="klaviyo",
        name="Klaviyo",
        kind="cx",
        fields=(
            CredentialField(
                "api_key",
                "Private API key",
                "pk_…, with the events:write and accounts:read scopes",
                secret=True,
            ),
        ),
        check=check_klaviyo,
        notes="Desk moments (delivery exception, refund, return label, replacement, "
        "resolution) become Klaviyo events that trigger the merchant's flows.",
    ),
)
