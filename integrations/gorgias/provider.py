from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.gorgias import webhooks
from integrations.gorgias.client import GorgiasClient, GorgiasError
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider


def check_gorgias(connection) -> str:
    """Read the account: the cheapest call that proves the domain, email and key."""
    try:
        client = GorgiasClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        account = client.account()
    except GorgiasError as exc:
        raise CheckFailed(exc.message) from exc
    return f"Reached Gorgias account {account.get('domain') or client.domain}."


PROVIDERS = (
    ProviderSpec(
        code="gorgias",
        name="Gorgias",
        kind="cx",
        fields=(
            CredentialField("domain", "Account domain", "The part before .gorgias.com"),
            CredentialField(
                "email", "API user email", "The Gorgias user the API key belongs to", email=True
            ),
            CredentialField("api_key", "API key", "Settings → REST API", secret=True),
            CredentialField(
                "webhook_secret",
                "Webhook token",
                "A long random phrase; the HTTP integration sends it in an X-Desk-Token header",
                secret=True,
            ),
        ),
        check=check_gorgias,
        webhook=WebhookProvider(
            webhooks.HEADER, "", "", webhooks.process, verify=webhooks.verify_token
        ),
        notes="Tickets become contacts; replies and resolutions go back to the ticket.",
    ),
)
