from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.commerce import ExecutionError
from integrations.connection_checks import CheckFailed
from integrations.loop import webhooks
from integrations.loop.client import LoopClient
from integrations.models import Connection
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider, body_digest


def check(connection: Connection) -> str:
    try:
        client = LoopClient.for_credentials(
            connection.credentials, bucket_name=str(connection.public_id), budget=10
        )
        now = timezone.now()
        # One page of one return: the generator asks for no more.
        latest = next(iter(client.returns(now - timedelta(days=7), now, page_size=1)), None)
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    if latest is None:
        return "Reached Loop: no return updated in the last 7 days."
    return f"Reached Loop: return {latest.get('id')} was updated in the last 7 days."


PROVIDERS = (
    ProviderSpec(
        code="loop",
        name="Loop Returns",
        kind="cx",
        fields=(
            CredentialField("api_key", "API key", "A key with the Returns scope", secret=True),
            CredentialField(
                "webhook_secret",
                "Webhook secret",
                "Loop's webhook secret, from Developer tools",
                secret=True,
            ),
        ),
        check=check,
        webhook=WebhookProvider(
            webhooks.SIGNATURE_HEADER,
            "",
            "",
            webhooks.process,
            verify_request=webhooks.verify,
            delivery_id_from=body_digest,
        ),
    ),
)
