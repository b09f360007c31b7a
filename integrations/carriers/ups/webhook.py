"""UPS Track Alert: event pushes for subscribed 1Z numbers.

A number is subscribed with ``POST /api/track/v1/subscription/standard/package``
(up to 100 numbers a call, each watched for 14 days), naming our URL and a
``credential`` of our choosing; UPS then posts each new scan there, one
package per message, with that credential echoed in the ``credential``
header (and ``User-Agent: UPSPubSubTrackingService``). UPS signs nothing,
so the credential, kept as the connection's webhook secret, is what
authenticates a push. A message carries one activity (``activityStatus``
with the same three-digit ``descriptionCode`` the Track API sends as
``statusCode``, local and GMT date/time, ``activityLocation``); it is put in
the Track API's shape and read by the polling mapping. No delivery id: a
digest of the body stands in."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from integrations.carriers import push, registry
from integrations.carriers.client import PermanentError
from integrations.carriers.ups.client import TRANSACTION_SOURCE, UpsClient
from integrations.providers import CredentialField
from integrations.webhooks import WebhookProvider, body_digest

if TYPE_CHECKING:
    from integrations.models import Connection
    from integrations.webhooks import Delivery

SUBSCRIBE_PATH = "/api/track/v1/subscription/standard/package"
MAX_NUMBERS = 100
# Each accepted number is watched this long; then it must be subscribed again.
SUBSCRIPTION_LASTS = timedelta(days=14)
# What the subscription takes (PostgreSQL regex): 1Z package numbers only.
NUMBER_PATTERN = r"^1Z[0-9A-Z]{16}$"


def verify(credential: str, body: bytes, given: str) -> bool:
    return bool(credential) and bool(given) and hmac.compare_digest(given.strip(), credential)


def _offset(local_day: str, local_time: str, gmt_day: str, gmt_time: str) -> str:
    """The activity's UTC offset ('-04:00'), from the local and GMT stamps UPS sends."""
    try:
        local = datetime.strptime(local_day + local_time, "%Y%m%d%H%M%S")
        gmt = datetime.strptime(gmt_day + gmt_time, "%Y%m%d%H%M%S")
    except ValueError:
        return ""
    minutes = round((local - gmt).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def as_track_response(message: dict) -> dict:
    """One Track Alert message in the Track API's ``trackResponse`` shape."""
    status = message.get("activityStatus") or {}
    place = message.get("activityLocation") or {}
    activity = {
        "date": message.get("localActivityDate") or "",
        "time": message.get("localActivityTime") or "",
        "gmtOffset": _offset(
            message.get("localActivityDate") or "",
            message.get("localActivityTime") or "",
            message.get("gmtActivityDate") or "",
            message.get("gmtActivityTime") or "",
        ),
        "location": {
            "address": {
                "city": place.get("city") or "",
                "stateProvince": place.get("stateProvince") or "",
                "postalCode": place.get("postalCode") or "",
                "countryCode": place.get("country") or "",
            }
        },
        "status": {
            "type": status.get("type") or "",
            "code": status.get("code") or "",
            "statusCode": status.get("descriptionCode") or "",
            "description": status.get("description") or "",
        },
    }
    package = {"trackingNumber": message["trackingNumber"].strip(), "activity": [activity]}
    if message.get("scheduledDeliveryDate"):
        package["deliveryDate"] = [{"type": "SDD", "date": message["scheduledDeliveryDate"]}]
    return {"trackResponse": {"shipment": [{"package": [package]}]}}


def process(delivery: Delivery) -> None:
    message = delivery.payload
    if not str(message.get("trackingNumber") or "").strip():
        raise ValueError("not a Track Alert message (no trackingNumber)")
    if not isinstance(message.get("activityStatus"), dict):
        raise ValueError("Track Alert message without activityStatus")
    push.apply(delivery, registry.parse("ups", as_track_response(message)), carrier="ups")


def callback_url(connection: Connection) -> str:
    path = reverse("webhooks:receive", args=["ups", str(connection.public_id)])
    return settings.SITE_URL.rstrip("/") + path


def subscribe(connection: Connection, numbers: list[str], *, client: UpsClient | None = None):
    """Ask UPS to push ``numbers`` (1Z, at most 100) to this connection's URL for 14 days.

    Returns (subscribed, refused) as UPS lists them; a call in which every
    number is refused is answered 400 (VSS210) with the refused list, and
    reads the same. Raises PermanentError when the connection has no
    credential to echo or UPS refuses the call, TransientError (from the
    client) when UPS is rate limiting, down or unreachable."""
    credential = connection.webhook_secret
    if not credential:
        raise PermanentError("UPS connection has no webhook credential for Track Alert")
    if len(numbers) > MAX_NUMBERS:
        raise ValueError(f"Track Alert takes at most {MAX_NUMBERS} numbers a call")
    owned = client is None
    client = client or UpsClient.for_connection(connection)
    payload = {
        "locale": "en_US",
        "countryCode": "US",
        "trackingNumberList": numbers,
        "destination": {
            "url": callback_url(connection),
            "credentialType": "Bearer",
            "credential": credential,
        },
    }
    try:
        response = _post_subscription(client, payload, client.token())
        if response.status_code == 401:
            # Revoked or expired before our cache thought so: one fresh token.
            response = _post_subscription(client, payload, client.token(fresh=True))
    finally:
        if owned:
            client.close()
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 400 and body.get("invalidTrackingNumbers"):
        return [], body["invalidTrackingNumbers"]
    if response.status_code != 200:
        errors = (body.get("response") or body).get("errors") or [{}]
        raise PermanentError(
            f"UPS refused the Track Alert subscription ({response.status_code}): "
            f"{errors[0].get('code', '')} {errors[0].get('message', '')}".strip()
        )
    return body.get("validTrackingNumbers") or [], body.get("invalidTrackingNumbers") or []


def _post_subscription(client: UpsClient, payload: dict, token: str):
    request = client.http.build_request(
        "POST",
        client.base + SUBSCRIBE_PATH,
        json=payload,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "transId": uuid.uuid4().hex,
            "transactionSrc": TRANSACTION_SOURCE,
        },
    )
    return client.send(request)


WEBHOOK = WebhookProvider(
    signature_header="credential",
    delivery_header="",
    topic_header="",
    process=process,
    verify=verify,
    delivery_id_from=body_digest,
)
WEBHOOK_FIELDS = (
    CredentialField(
        "webhook_secret",
        "Track Alert credential",
        "A long random string; UPS echoes it on every push",
        secret=True,
        required=False,
    ),
)
