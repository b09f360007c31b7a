"""Carriers and aggregators that push: each delivery is verified by the provider's
documented signature, kept, and applied through the polling mapping to the
tenant's shipment, idempotently and never backwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.cache import cache
from django.utils import timezone

from integrations.actions import record_tracking_event
from integrations.carriers import polling
from integrations.carriers.shipengine import webhook as shipengine_webhook
from integrations.carriers.ups import webhook as ups_webhook
from integrations.carriers.ups.client import UpsClient
from integrations.models import Connection, Shipment, TrackingEvent, WebhookEvent
from tests.factories import apply_webhooks, make_order, make_tenant

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "push-secret-7f3a"
SHIPENGINE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IMPOSTOR_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SHIPENGINE_KID = "se-key-2024"


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _shipengine_headers(secret: str, body: bytes, *, at=None) -> dict[str, str]:
    # Signed by ShipEngine's published key; any other secret means someone else's key.
    key = SHIPENGINE_KEY if secret == SECRET else IMPOSTOR_KEY
    stamp = (at or timezone.now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    signed = key.sign(stamp.encode() + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    return {
        "x-shipengine-rsa-sha256-key-id": SHIPENGINE_KID,
        "x-shipengine-rsa-sha256-signature": base64.b64encode(signed).decode(),
        "x-shipengine-timestamp": stamp,
    }


@dataclass(frozen=True)
class Case:
    provider: str
    fixture: str
    number: str
    carrier: str  # the shipment's carrier (our code)
    status: str  # what the push makes of it
    headers: Callable[[str, bytes], dict[str, str]]

    @property
    def body(self) -> bytes:
        return (FIXTURES / self.fixture).read_bytes()

    def __str__(self) -> str:
        return self.provider


CASES = [
    Case(
        "aftership",
        "webhooks/aftership_tracking_update.json",
        "9400111899223197428490",
        "usps",
        "out_for_delivery",
        lambda secret, body: {"aftership-hmac-sha256": _b64_hmac(secret, body)},
    ),
    Case(
        "17track",
        "webhooks/17track_tracking_updated.json",
        "RR123456789CN",
        "chinapost",
        "delivered",
        # 17TRACK: hex SHA-256 of the body, "/" and the security key.
        lambda secret, body: {"sign": hashlib.sha256(body + b"/" + secret.encode()).hexdigest()},
    ),
    Case(
        "easypost",
        "webhooks/easypost_tracker_updated.json",
        "9405500110368135400131",
        "usps",
        "out_for_delivery",
        lambda secret, body: {
            "X-Hmac-Signature": "hmac-sha256-hex="
            + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        },
    ),
    Case(
        "shipengine",
        "webhooks/shipengine_api_track.json",
        "1Z999AA10123456784",
        "ups",
        "delivered",
        _shipengine_headers,
    ),
    Case(
        "ups",
        "webhooks/ups_track_alert_delivered.json",
        "1Z204W4R0308071865",
        "ups",
        "delivered",
        # Track Alert echoes the credential given at subscription.
        lambda secret, body: {"credential": secret, "User-Agent": "UPSPubSubTrackingService"},
    ),
    Case(
        "fedex",
        "fedex/TrackingResponseJSON.json",
        "794887075005",
        "fedex",
        "in_transit",
        lambda secret, body: {"fdx-signature": _b64_hmac(secret, body)},
    ),
    Case(
        "dhl",
        "webhooks/dhl_push.json",
        "00340434292135100186",
        "dhl",
        "delivered",
        lambda secret, body: {"X-Desk-Push-Token": secret},
    ),
]


@pytest.fixture(autouse=True)
def shipengine_keys():
    """ShipEngine's JWKS endpoint, serving the public half of the test key."""
    numbers = SHIPENGINE_KEY.public_key().public_numbers()

    def b64url(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    jwk = {"kty": "RSA", "kid": SHIPENGINE_KID, "n": b64url(numbers.n), "e": b64url(numbers.e)}
    cache.delete(shipengine_webhook.KEYS_CACHE)
    with respx.mock(assert_all_called=False) as router:
        router.jwks = router.get(shipengine_webhook.JWKS_URL).mock(
            return_value=httpx.Response(200, json={"keys": [jwk]})
        )
        yield router
    cache.delete(shipengine_webhook.KEYS_CACHE)


@pytest.fixture
def schedule():
    s = polling.Schedule()
    s.clear()
    yield s
    s.clear()


def _connect(case: Case, tenant=None) -> Connection:
    return Connection.objects.create(
        tenant=tenant or make_tenant(),
        provider=case.provider,
        kind=Connection.Kind.CARRIER,
        name=case.provider,
        credentials={"webhook_secret": SECRET},
    )


def _shipment(case: Case, tenant) -> Shipment:
    order = make_order(tenant, shipment_status=None)
    return Shipment.objects.create(
        tenant=tenant, order=order, carrier=case.carrier, tracking_number=case.number
    )


def _post(client, case: Case, connection, body: bytes, *, secret=SECRET, headers=None):
    response = client.post(
        f"/webhooks/{case.provider}/{connection.public_id}",
        data=body,
        content_type="application/json",
        headers=headers or case.headers(secret, body),
    )
    response.applied = apply_webhooks()
    return response


@pytest.mark.parametrize("case", CASES, ids=str)
def test_signed_push_stores_the_scans_with_the_mapped_status(client, case):
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)

    response = _post(client, case, connection, case.body)

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.applied == ["processed"]
    shipment.refresh_from_db()
    assert shipment.status == case.status
    assert shipment.events.count() >= 1
    kept = WebhookEvent.objects.get()
    assert (kept.status, kept.error) == (WebhookEvent.Status.PROCESSED, "")
    assert kept.body == case.body.decode()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_wrong_signature_is_401_and_kept_as_rejected(client, case):
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)

    response = _post(client, case, connection, case.body, secret="not-the-secret")

    assert response.status_code == 401
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.body == case.body.decode()
    assert not shipment.events.exists()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_malformed_body_is_400_and_kept(client, case):
    connection = _connect(case)

    response = _post(client, case, connection, b'{"truncated": ')

    assert response.status_code == 400
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.REJECTED
    assert kept.error.startswith("Malformed JSON")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_body_of_another_shape_fails_with_the_reason_and_is_kept(client, case):
    connection = _connect(case)
    body = json.dumps({"hello": "world"}).encode()

    response = _post(client, case, connection, body)

    assert response.status_code == 200
    assert response.applied == ["failed"]
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.FAILED
    assert kept.error
    assert kept.body == body.decode()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_redelivery_is_a_duplicate_with_no_second_effect(client, case):
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)
    headers = case.headers(SECRET, case.body)

    first = _post(client, case, connection, case.body, headers=headers)
    stored = TrackingEvent.objects.filter(shipment=shipment).count()
    second = _post(client, case, connection, case.body, headers=headers)

    assert first.json()["status"] == "accepted"
    assert second.status_code == 200
    assert second.json()["status"] == "duplicate"
    assert second.applied == []
    assert WebhookEvent.objects.count() == 1
    assert TrackingEvent.objects.filter(shipment=shipment).count() == stored


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_older_push_never_moves_the_shipment_backwards(client, case):
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)
    newest = timezone.now() - timedelta(hours=1)
    record_tracking_event(
        shipment,
        occurred_at=newest,
        status="exception",
        description="Held at depot",
        carrier_code="NEWER",
    )

    response = _post(client, case, connection, case.body)

    assert response.applied == ["processed"]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.last_event_at) == ("exception", newest)
    # The pushed scans are still kept in the timeline.
    assert shipment.events.exclude(carrier_code="NEWER").exists()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_push_about_a_shipment_we_do_not_hold_is_ignored_and_kept(client, case):
    connection = _connect(case)

    response = _post(client, case, connection, case.body)

    assert response.status_code == 200
    assert response.applied == ["ignored"]
    kept = WebhookEvent.objects.get()
    assert kept.status == WebhookEvent.Status.PROCESSED
    assert kept.error.startswith("Ignored:")
    assert case.number in kept.error or "No shipment" in kept.error


def test_another_tenants_shipment_is_never_touched(client):
    case = CASES[0]
    connection = _connect(case)
    theirs = _shipment(case, make_tenant())

    response = _post(client, case, connection, case.body)

    assert response.applied == ["ignored"]
    assert not theirs.events.exists()


def test_a_carrier_push_only_reaches_that_carriers_shipment(client):
    ups = next(c for c in CASES if c.provider == "ups")
    connection = _connect(ups)
    same_number_other_carrier = _shipment(
        Case("x", ups.fixture, ups.number, "fedex", "", ups.headers), connection.tenant
    )

    response = _post(client, ups, connection, ups.body)

    assert response.applied == ["ignored"]
    assert not same_number_other_carrier.events.exists()


def test_a_pushed_shipment_is_polled_later_as_a_safety_net(
    client, schedule, django_capture_on_commit_callbacks
):
    case = CASES[0]  # AfterShip: out for delivery, still moving
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)
    schedule.set_due({shipment.pk: timezone.now().timestamp()})

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, case, connection, case.body)

    due = schedule.due_at(shipment.pk)
    assert due >= (timezone.now() + timedelta(hours=11)).timestamp()


def test_a_push_delivered_long_ago_leaves_the_schedule(
    client, schedule, django_capture_on_commit_callbacks
):
    case = next(c for c in CASES if c.provider == "ups")  # delivered in 2024
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)
    schedule.set_due({shipment.pk: timezone.now().timestamp()})

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, case, connection, case.body)

    assert schedule.due_at(shipment.pk) is None


# --- provider specifics --------------------------------------------------------


def test_17track_tracking_stopped_is_ignored(client):
    case = CASES[1]
    connection = _connect(case)
    _shipment(case, connection.tenant)
    body = json.dumps(
        {
            "event": "TRACKING_STOPPED",
            "data": {"number": case.number, "carrier": 3011, "param": None, "tag": None},
        }
    ).encode()

    response = _post(client, case, connection, body)

    assert response.applied == ["ignored"]
    assert "stopped" in WebhookEvent.objects.get().error


def test_17track_signature_vector():
    from integrations.carriers.seventeentrack.webhook import verify

    body = b'{"event":"TRACKING_UPDATED"}'
    # sha256('{"event":"TRACKING_UPDATED"}/key-123'), computed by hand.
    expected = hashlib.sha256(b'{"event":"TRACKING_UPDATED"}/key-123').hexdigest()
    assert verify("key-123", body, expected)
    assert verify("key-123", body, expected.upper())
    assert not verify("key-124", body, expected)


def test_easypost_secret_is_nfkd_normalised_before_signing(client):
    case = CASES[2]
    connection = _connect(case)
    connection.credentials = {"webhook_secret": "\ufb01sh-secret"}  # "ﬁ" ligature
    connection.save()
    _shipment(case, connection.tenant)
    body = case.body
    # EasyPost keys the HMAC with NFKD("ﬁsh-secret") == "fish-secret".
    digest = hmac.new(b"fish-secret", body, hashlib.sha256).hexdigest()

    response = _post(
        client, case, connection, body, headers={"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}
    )

    assert response.status_code == 200
    assert response.applied == ["processed"]


def test_easypost_events_about_other_objects_are_ignored(client):
    case = CASES[2]
    connection = _connect(case)
    body = json.dumps(
        {"object": "Event", "id": "evt_batch1", "description": "batch.updated", "result": {}}
    ).encode()

    response = _post(client, case, connection, body)

    assert response.applied == ["ignored"]


def test_shipengine_refuses_a_stale_timestamp(client):
    case = CASES[3]
    connection = _connect(case)
    headers = _shipengine_headers(SECRET, case.body, at=timezone.now() - timedelta(minutes=6))

    response = _post(client, case, connection, case.body, headers=headers)

    assert response.status_code == 401


def test_shipengine_keys_are_fetched_once_and_cached(client, shipengine_keys):
    case = CASES[3]
    connection = _connect(case)
    _shipment(case, connection.tenant)

    _post(client, case, connection, case.body)
    body = case.body.replace(b"DELIVERED", b"DELIVERED ")
    _post(client, case, connection, body)

    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 2
    assert shipengine_keys.jwks.call_count == 1


def test_shipengine_unknown_key_id_is_refused(client, shipengine_keys):
    case = CASES[3]
    connection = _connect(case)
    headers = _shipengine_headers(SECRET, case.body)
    headers["x-shipengine-rsa-sha256-key-id"] = "someone-elses-key"

    response = _post(client, case, connection, case.body, headers=headers)

    assert response.status_code == 401
    assert shipengine_keys.jwks.call_count == 1  # looked once for a rotated key


def test_ups_track_alert_offset_comes_from_the_gmt_stamp(client):
    case = next(c for c in CASES if c.provider == "ups")
    connection = _connect(case)
    shipment = _shipment(case, connection.tenant)

    _post(client, case, connection, case.body)

    event = shipment.events.get()
    # 09:50:04 local, 13:50:04 GMT: Charlotte on daylight time.
    assert event.occurred_at.isoformat() == "2024-04-23T13:50:04+00:00"
    assert event.carrier_code == "011"


@respx.mock
def test_ups_subscribe_asks_track_alert_to_push_to_this_connection(settings):
    settings.SITE_URL = "https://desk.example.com"
    case = next(c for c in CASES if c.provider == "ups")
    connection = _connect(case)
    connection.credentials = {
        "client_id": "app",
        "client_secret": "s3cret",
        "webhook_secret": SECRET,
    }
    connection.save()
    cache.delete(UpsClient(connection.credentials)._token_key)
    respx.post("https://onlinetools.ups.com/security/v1/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": "14399"})
    )
    route = respx.post(
        "https://onlinetools.ups.com/api/track/v1/subscription/standard/package"
    ).mock(
        return_value=httpx.Response(
            200,
            json={
                "validTrackingNumbers": ["1Z204W4R0308071865"],
                "invalidTrackingNumbers": ["1Z1234567$8"],
            },
        )
    )

    valid, invalid = ups_webhook.subscribe(connection, ["1Z204W4R0308071865", "1Z1234567$8"])

    assert (valid, invalid) == (["1Z204W4R0308071865"], ["1Z1234567$8"])
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer tok"
    assert sent.headers["transId"] and sent.headers["transactionSrc"]
    assert json.loads(sent.content) == {
        "locale": "en_US",
        "countryCode": "US",
        "trackingNumberList": ["1Z204W4R0308071865", "1Z1234567$8"],
        "destination": {
            "url": f"https://desk.example.com/webhooks/ups/{connection.public_id}",
            "credentialType": "Bearer",
            "credential": SECRET,
        },
    }
    cache.delete(UpsClient(connection.credentials)._token_key)


def test_every_pushing_provider_is_reported_by_track_carriers():
    from integrations.carriers import registry

    pushing = {c.code for c in registry.CARRIERS if c.capabilities["webhook"]}
    assert pushing == {c.provider for c in CASES}


def test_a_push_only_connection_tests_that_its_secret_is_set():
    from integrations import providers
    from integrations.carriers.provider import _webhook_check
    from integrations.connection_checks import CheckFailed

    case = CASES[1]  # 17TRACK, as if it had no tracking client: pushes only
    connection = _connect(case)
    check = _webhook_check("17TRACK", providers.get("17track").fields)

    assert f"/webhooks/17track/{connection.public_id}" in check(connection)
    connection.credentials = {}
    with pytest.raises(CheckFailed):
        check(connection)
