"""Gorgias HTTP integration deliveries: verify the shared token, keep, thread.

Gorgias does not sign what its HTTP integrations send. The merchant's
integration carries a secret of the connection's instead: a custom header,
``X-Desk-Token: <webhook secret>``, configured with the integration, compared
here in constant time. The integration posts ``{{context}}`` as JSON on the
``ticket-created`` and ``ticket-message-created`` triggers (see
``docs/gorgias.md``).

Gorgias sends no delivery id, so a redelivery is recognised by the message it
carries: a customer message is kept once per Gorgias message id, and the
second delivery of it (or the same message arriving through both triggers)
changes nothing.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from integrations.gorgias import mapping

if TYPE_CHECKING:
    from integrations.webhooks import Delivery

# The custom header the merchant adds to the HTTP integration, carrying the secret.
HEADER = "X-Desk-Token"


def verify_token(secret: str, body: bytes, given: str) -> bool:
    return bool(secret) and bool(given) and hmac.compare_digest(given.strip(), secret)


def process(delivery: Delivery) -> None:
    """A ticket or ticket message: a customer's words become (part of) a contact."""
    from integrations.gorgias import inbound
    from integrations.webhooks import Ignored

    try:
        message = mapping.customer_message(delivery.payload)
    except mapping.NotACustomerMessage as exc:
        raise Ignored(str(exc)) from exc
    if inbound.receive(delivery.connection, message) is None:
        raise Ignored("Message already received")
