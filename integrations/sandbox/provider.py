from __future__ import annotations

from integrations.connection_checks import built_in
from integrations.providers import ProviderSpec
from integrations.sandbox import webhooks
from integrations.webhooks import WebhookProvider

PROVIDERS = (
    ProviderSpec(
        code="sandbox",
        name="Sandbox store",
        kind="commerce",
        check=built_in,
        adapter="integrations.sandbox.store.SandboxStore",
    ),
    ProviderSpec(
        code="sandbox_carrier",
        name="Sandbox carrier feed",
        kind="carrier",
        check=built_in,
        webhook=WebhookProvider(
            "X-Desk-Hmac-Sha256", "X-Desk-Webhook-Id", "X-Desk-Topic", webhooks.process
        ),
    ),
)
