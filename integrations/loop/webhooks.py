"""Loop's Return webhook (return.created, return.updated, return.closed).

The body is the return itself, with ``topic`` and ``trigger`` added. The
signature in ``X-Loop-Signature`` is the base64 HMAC-SHA256 of the body with
the webhook secret. Loop computes it over JSON with escaped slashes and no
newlines; a body that reaches us re-encoded otherwise is checked in that
form too. Loop sends no delivery id, so the bytes are the delivery's
identity: the same body redelivered is answered ``duplicate``.
"""

from __future__ import annotations

import re

from django.http import HttpRequest

from integrations.loop import mapping
from integrations.models import Connection
from integrations.return_mirror import UnknownReturnOrder, apply_return
from integrations.webhooks import Delivery, Ignored, verify_base64_hmac

SIGNATURE_HEADER = "X-Loop-Signature"
_UNESCAPED_SLASH = re.compile(rb"(?<!\\)/")


def verify(connection: Connection, request: HttpRequest) -> bool:
    secret = connection.webhook_secret
    given = request.headers.get(SIGNATURE_HEADER, "")
    body = request.body
    if verify_base64_hmac(secret, body, given):
        return True
    loop_form = _UNESCAPED_SLASH.sub(rb"\\/", body.replace(b"\r", b"").replace(b"\n", b""))
    return loop_form != body and verify_base64_hmac(secret, loop_form, given)


def process(delivery: Delivery) -> None:
    payload = delivery.payload
    if payload.get("topic") not in (None, "return") or "id" not in payload:
        raise Ignored(f"{payload.get('topic') or 'an event'} is not a return")
    data = mapping.return_data(payload)
    try:
        applied = apply_return(delivery.connection, data, version_at=mapping.version_of(payload))
    except UnknownReturnOrder as exc:
        raise Ignored(str(exc)) from exc
    if applied is None:
        raise Ignored(f"{payload.get('trigger') or 'return'} {data.external_id} is stale")
