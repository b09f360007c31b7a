"""Adobe Commerce events (Adobe I/O Events, delivered to a webhook) into the mirror.

Magento Open Source sends nothing by itself; Adobe Commerce publishes its
observer events (``observer.sales_order_save_after`` …) to Adobe I/O Events,
and an event registration delivers them here. Adobe signs the raw body with
its own RSA keys: ``x-adobe-digital-signature-1`` and ``-2`` are base64
RSA-SHA256 signatures, ``x-adobe-public-key1-path`` and ``-2-path`` name the
PEM public keys served from Adobe's fixed key domain. Either signature
verifying is enough (Adobe rotates one key at a time). The body's
``recipient_client_id`` must be the connection's I/O client id, so an event
meant for another registration is refused.

``x-adobe-event-id`` stays the same across Adobe's retries (the intake
de-duplicates on it), ``x-adobe-event-code`` names the event. An event's
fields are whatever the merchant subscribed to, so we read only the ids
from it and fetch the order, its shipments and credit memos from the store's
REST API: the mirror then holds the store's current state, and the order's
``updated_at`` keeps an older read from overwriting a newer one.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

from integrations.webhooks import Ignored

if TYPE_CHECKING:
    from django.http import HttpRequest

    from integrations.models import Connection
    from integrations.webhooks import Delivery

KEY_DOMAIN = "https://static.adobeioevents.com"
KEY_PATH = re.compile(r"^/[A-Za-z0-9/_.-]+\.pem$")
KEY_CACHE_SECONDS = 24 * 3600
SIGNATURE_HEADERS = (
    ("x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
    ("x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
)
EVENT_PREFIX = "com.adobe.commerce."

ORDER_EVENTS = {
    "observer.sales_order_save_after",
    "observer.sales_order_place_after",
    "observer.sales_order_invoice_save_after",
    "observer.sales_order_payment_refund",
}
SHIPMENT_EVENTS = {
    "observer.sales_order_shipment_save_after",
    "observer.sales_order_shipment_track_save_after",
}
CREDITMEMO_EVENTS = {"observer.sales_order_creditmemo_save_after"}
RETURN_EVENTS = {"observer.magento_rma_save_after", "observer.rma_save_after"}
EVENTS = ORDER_EVENTS | SHIPMENT_EVENTS | CREDITMEMO_EVENTS | RETURN_EVENTS


def public_key(path: str) -> rsa.RSAPublicKey | None:
    """Adobe's PEM public key at ``path`` on its key domain, cached a day."""
    if not KEY_PATH.match(path or "") or ".." in path:
        return None
    cache_key = f"adobe-io-key:{path}"
    pem = cache.get(cache_key)
    if pem is None:
        try:
            response = httpx.get(KEY_DOMAIN + path, timeout=httpx.Timeout(5.0))
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        pem = response.text
        cache.set(cache_key, pem, KEY_CACHE_SECONDS)
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError:
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


def verify_signature(body: bytes, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature), body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_request(connection: Connection, request: HttpRequest) -> bool:
    body = request.body
    verified = False
    for signature_header, path_header in SIGNATURE_HEADERS:
        signature = request.headers.get(signature_header, "")
        key = public_key(request.headers.get(path_header, "")) if signature else None
        if key is not None and verify_signature(body, signature, key):
            verified = True
            break
    if not verified:
        return False
    expected = connection.credentials.get("io_client_id", "")
    if not expected:
        return True
    # A body that is not JSON is left for the intake to answer 400.
    try:
        payload = json.loads(body)
    except ValueError:
        return True
    return not isinstance(payload, dict) or payload.get("recipient_client_id") == expected


def event_name(delivery: Delivery) -> str:
    # The body's CloudEvents type first: the kept topic header is cut at 64
    # characters, and "…sales_order_shipment_track_save_after" is longer.
    code = str(delivery.payload.get("type") or "") or delivery.topic
    return code.removeprefix(EVENT_PREFIX)


def event_value(payload: dict[str, Any]) -> dict[str, Any]:
    """The subscribed fields: ``data.value`` of the delivered event."""
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("value"), dict):
        raise ValueError("The event has no data.value")
    return data["value"]


def _id(value: dict[str, Any], *names: str) -> str:
    for name in names:
        if value.get(name) not in (None, ""):
            return str(value[name])
    raise KeyError(f"The event's data.value has none of {', '.join(names)}")


def process(delivery: Delivery) -> None:
    from integrations.commerce import ExecutionError, adapter_for_connection

    name = event_name(delivery)
    if name not in EVENTS:
        raise Ignored(f"event {name!r} is not mirrored")
    value = event_value(delivery.payload)
    if name in ORDER_EVENTS:
        order_id = _id(value, "entity_id", "order_id")
    elif name in RETURN_EVENTS:
        order_id = _id(value, "order_id")
    else:
        # Shipments, tracks and credit memos name their order (a track's
        # parent_id is its shipment, not the order).
        order_id = _id(value, "order_id")
    adapter = adapter_for_connection(delivery.connection)
    try:
        adapter.mirror_order(order_id)
    except ExecutionError as exc:
        if not exc.permanent:
            raise  # the store is busy or down: the task retries later
        # The store refused for good (the order is gone, access revoked):
        # the event fails with the store's own words.
        raise ValueError(str(exc)) from exc


def answer_challenge(connection, request: HttpRequest) -> HttpResponse:
    """Adobe I/O Events proves a webhook URL, when it is registered, with a GET
    carrying ``challenge``; the URL is accepted when the answer echoes it."""
    challenge = request.GET.get("challenge", "")
    if not challenge:
        return JsonResponse({"error": "Expected a challenge"}, status=400)
    return JsonResponse({"challenge": challenge})
