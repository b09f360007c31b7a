from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.lazada import webhooks
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider, body_digest


def check(connection) -> str:
    """One read: the seller's own profile."""
    from integrations.commerce import ExecutionError
    from integrations.lazada.client import LazadaClient

    try:
        client = LazadaClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        seller = client.seller()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    return (
        f"Reached {seller.get('name', '?')} (seller {seller.get('seller_id', '?')}, "
        f"{seller.get('location') or connection.credentials.get('country', '?')})."
    )


def validate(values: dict) -> dict[str, str]:
    from integrations.lazada.client import GATEWAYS

    country = str(values.get("country", "")).strip().upper()
    if country and country not in GATEWAYS:
        return {"country": f"One of {', '.join(GATEWAYS)}"}
    return {}


PROVIDERS = (
    ProviderSpec(
        code="lazada",
        name="Lazada",
        kind="commerce",
        fields=(
            CredentialField("app_key", "App key"),
            CredentialField("app_secret", "App secret", "Also signs pushes", secret=True),
            CredentialField("access_token", "Seller access token", secret=True),
            CredentialField("country", "Country", "SG, MY, TH, PH, ID or VN"),
            CredentialField(
                "seller_id", "Seller id", "Pushes for other sellers are ignored", required=False
            ),
        ),
        check=check,
        validate=validate,
        # Lazada sends no delivery id or topic header: the message type is in the body.
        webhook=WebhookProvider(
            "Authorization",
            "",
            "",
            webhooks.process,
            verify_request=webhooks.verify,
            delivery_id_from=body_digest,
        ),
        adapter="integrations.lazada.adapter.LazadaAdapter",
    ),
)
