from __future__ import annotations

from integrations.connection_checks import check_email, check_twilio, check_whatsapp
from integrations.messaging import webhooks
from integrations.providers import CredentialField, ProviderSpec
from integrations.webhooks import WebhookProvider


def _twilio_sender(data: dict) -> dict[str, str]:
    if data.get("from_number") or data.get("messaging_service_sid"):
        return {}
    return {"from_number": "A sending number or a Messaging Service SID."}


PROVIDERS = (
    ProviderSpec(
        code="twilio",
        name="Twilio SMS",
        kind="messaging",
        fields=(
            CredentialField("account_sid", "Account SID"),
            CredentialField("auth_token", "Auth token", secret=True),
            CredentialField(
                "from_number", "From number", "The sending number, +14155550100", required=False
            ),
            CredentialField(
                "messaging_service_sid",
                "Messaging Service SID",
                "Instead of a number, MG…",
                required=False,
            ),
        ),
        check=check_twilio,
        validate=_twilio_sender,
        webhook=WebhookProvider(
            "X-Twilio-Signature",
            "I-Twilio-Idempotency-Token",
            "",
            webhooks.process_twilio,
            verify_request=webhooks.verify_twilio,
            parse=webhooks.parse_form,
        ),
    ),
    ProviderSpec(
        code="whatsapp",
        name="WhatsApp Cloud API",
        kind="messaging",
        fields=(
            CredentialField("phone_number_id", "Phone-number id"),
            CredentialField("access_token", "Access token", secret=True),
            CredentialField(
                "app_secret",
                "App secret",
                "The Meta app secret that signs webhooks",
                secret=True,
                stored_as="webhook_secret",
            ),
            CredentialField("verify_token", "Verify token", "Any phrase, entered at Meta too"),
        ),
        check=check_whatsapp,
        webhook=WebhookProvider(
            "X-Hub-Signature-256",
            "",
            "",
            webhooks.process_whatsapp,
            verify=webhooks.verify_whatsapp,
        ),
    ),
    ProviderSpec(
        code="email",
        name="Email (Postmark inbound)",
        kind="messaging",
        fields=(
            CredentialField("from_email", "From address", email=True),
            CredentialField("reply_to", "Reply-to", "Where replies go", required=False, email=True),
            CredentialField(
                "inbound_password",
                "Inbound password",
                "The password in Postmark's inbound webhook URL",
                secret=True,
                stored_as="webhook_secret",
            ),
            CredentialField(
                "postmark_server_token",
                "Postmark server token",
                "To send through Postmark and hear back about deliveries and bounces "
                "(empty: the desk's own mail server)",
                secret=True,
                required=False,
            ),
        ),
        check=check_email,
        webhook=WebhookProvider(
            "", "", "", webhooks.process_postmark, verify_request=webhooks.verify_postmark
        ),
    ),
)
