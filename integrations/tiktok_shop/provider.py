from __future__ import annotations

from integrations.connection_checks import CheckFailed
from integrations.providers import CredentialField, ProviderSpec
from integrations.tiktok_shop import webhooks
from integrations.webhooks import WebhookProvider, body_digest


def check(connection) -> str:
    """One read: the shops this token is authorised for, and that ours is among them."""
    from integrations.commerce import ExecutionError
    from integrations.tiktok_shop.client import TikTokShopClient

    try:
        client = TikTokShopClient.for_credentials(connection.credentials, max_attempts=2, budget=10)
        shops = client.authorized_shops()
    except ExecutionError as exc:
        raise CheckFailed(str(exc)) from exc
    cipher = connection.credentials.get("shop_cipher")
    shop = next((s for s in shops if s.get("cipher") == cipher), None)
    if shop is None:
        raise CheckFailed("TikTok Shop accepted the token, but it is not authorised for this shop")
    return f"Reached {shop.get('name', '?')} ({shop.get('region', '?')}, shop {shop.get('id')})."


PROVIDERS = (
    ProviderSpec(
        code="tiktok_shop",
        name="TikTok Shop",
        kind="commerce",
        fields=(
            CredentialField("app_key", "App key"),
            CredentialField("app_secret", "App secret", "Also signs webhooks", secret=True),
            CredentialField("access_token", "Seller access token", secret=True),
            CredentialField("shop_cipher", "Shop cipher", "From Get Authorized Shops"),
            CredentialField("shop_id", "Shop id", "Webhooks for other shops are ignored"),
            CredentialField(
                "cancel_reason",
                "Cancel reason",
                "TikTok reason name used when the desk cancels",
                required=False,
            ),
            CredentialField(
                "return_reason",
                "Return reason",
                "TikTok reason name used for returns and refunds the desk starts",
                required=False,
            ),
        ),
        check=check,
        # TikTok sends no delivery id or topic header: the event type is in the body.
        webhook=WebhookProvider(
            "Authorization",
            "",
            "",
            webhooks.process,
            verify_request=webhooks.verify,
            # The notification id TikTok puts in every push names the delivery.
            delivery_id_from=lambda raw, payload: (
                str(payload.get("tts_notification_id") or "") or body_digest(raw, payload)
            ),
        ),
        adapter="integrations.tiktok_shop.adapter.TikTokShopAdapter",
    ),
)
