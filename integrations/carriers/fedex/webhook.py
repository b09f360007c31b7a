"""FedEx Advanced Integrated Visibility (AIV) webhook.

FedEx signs each push with the security token chosen when the webhook
project was created: ``fdx-signature`` is the base64 HMAC-SHA256 of the
raw body keyed by that token (FedEx Developer Portal, "Advanced Integrated
Visibility Validation Process"). FedEx documents the event body as the
Track API's track result; both envelopes seen in practice are read here,
``{"output": {"completeTrackResults": [...]}}`` and a bare
``{"trackResults": [...]}``, and each track result goes through the
polling mapping. There is no delivery id: a digest of the body stands in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from integrations.carriers import push, registry
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest, verify_base64_hmac

if TYPE_CHECKING:
    from integrations.webhooks import Delivery


def _track_results(payload: dict) -> list[tuple[str, dict]]:
    """(tracking number, track result) for every result the push carries."""
    complete = (payload.get("output") or {}).get("completeTrackResults")
    if complete is None and "trackResults" in payload:
        complete = [payload]
    if not isinstance(complete, list):
        raise ValueError("neither output.completeTrackResults nor trackResults")
    found = []
    for item in complete:
        for result in item.get("trackResults") or []:
            number = (result.get("trackingNumberInfo") or {}).get("trackingNumber") or item.get(
                "trackingNumber", ""
            )
            found.append((number, result))
    if not found:
        raise ValueError("the push carries no track result")
    return found


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    applied = 0
    for number, result in _track_results(delivery.payload):
        doc = {
            "output": {
                "completeTrackResults": [{"trackingNumber": number, "trackResults": [result]}]
            }
        }
        try:
            push.apply(delivery, registry.parse("fedex", doc), carrier="fedex")
        except Ignored:
            continue
        applied += 1
    if not applied:
        raise Ignored("No shipment of ours in this FedEx push")


WEBHOOK = WebhookProvider(
    signature_header="fdx-signature",
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify_base64_hmac,
    delivery_id_from=body_digest,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "AIV security token",
        "The security token of the FedEx webhook project; signs every push",
        secret=True,
        required=False,
    ),
)
