"""ShipEngine (ShipStation API) tracking webhooks.

ShipEngine posts ``{"resource_url", "resource_type": "API_TRACK", "data":
{tracking}}`` and signs every webhook with RSA-SHA256, so nothing secret is
shared with us: ``x-shipengine-rsa-sha256-signature`` is the base64
PKCS#1 v1.5 signature of ``<x-shipengine-timestamp>.<raw body>``, made with
the key named by ``x-shipengine-rsa-sha256-key-id`` in ShipEngine's
published key set (JWKS). Keys are fetched over HTTPS and cached; a key id
we have not seen refetches the set once (ShipEngine publishes a new key
before signing with it). A timestamp more than five minutes off is refused,
so a captured delivery cannot be replayed later. ``data`` is the object the
tracking API returns, read by the polling mapping."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache
from django.utils import timezone

from integrations.carriers import push, registry
from integrations.carriers.client import TIMEOUT, USER_AGENT
from integrations.webhooks import WebhookProvider, body_digest

if TYPE_CHECKING:
    from django.http import HttpRequest

    from integrations.models import Connection
    from integrations.webhooks import Delivery

JWKS_URL = "https://api.shipengine.com/jwks"
KEY_ID_HEADER = "x-shipengine-rsa-sha256-key-id"
SIGNATURE_HEADER = "x-shipengine-rsa-sha256-signature"
TIMESTAMP_HEADER = "x-shipengine-timestamp"
TOLERANCE = timedelta(minutes=5)
KEYS_CACHE = "carriers:shipengine:jwks"
KEYS_TTL = 12 * 3600


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _fetch_keys() -> dict[str, dict]:
    try:
        response = httpx.get(JWKS_URL, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})
        response.raise_for_status()
        keys = response.json().get("keys") or []
    except (httpx.HTTPError, ValueError, AttributeError):
        return {}
    found = {k["kid"]: k for k in keys if isinstance(k, dict) and k.get("kid")}
    if found:
        cache.set(KEYS_CACHE, found, timeout=KEYS_TTL)
    return found


def public_key(key_id: str) -> rsa.RSAPublicKey | None:
    keys = cache.get(KEYS_CACHE) or {}
    if key_id not in keys:
        keys = _fetch_keys()
    jwk = keys.get(key_id)
    if not jwk or jwk.get("kty") != "RSA":
        return None
    try:
        return rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    except (KeyError, ValueError, TypeError):
        return None


def _recent(timestamp: str) -> bool:
    try:
        when = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        return False
    return abs(timezone.now() - when) <= TOLERANCE


def verify_request(connection: Connection, request: HttpRequest) -> bool:
    key_id = request.headers.get(KEY_ID_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not (key_id and given and timestamp) or not _recent(timestamp):
        return False
    key = public_key(key_id)
    if key is None:
        return False
    try:
        key.verify(
            base64.b64decode(given),
            timestamp.encode() + b"." + request.body,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def process(delivery: Delivery) -> None:
    from integrations.webhooks import Ignored

    payload = delivery.payload
    if "resource_type" not in payload:
        raise ValueError("not a ShipEngine webhook (no resource_type)")
    if payload["resource_type"] != "API_TRACK":
        raise Ignored(f"ShipEngine {payload.get('resource_type')!r} is not a tracking event")
    data = payload.get("data")
    if not isinstance(data, dict) or not data.get("tracking_number"):
        raise ValueError("API_TRACK without data.tracking_number")
    push.apply(delivery, registry.parse("shipengine", data))


WEBHOOK = WebhookProvider(
    signature_header=SIGNATURE_HEADER,
    delivery_header="",
    topic_header="",
    process=process,
    verify_request=verify_request,
    delivery_id_from=body_digest,
)
