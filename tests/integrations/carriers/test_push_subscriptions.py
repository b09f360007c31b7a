"""UPS pushes only the 1Z numbers subscribed to Track Alert, for 14 days each:
moving shipments on a tenant's UPS connection are subscribed, in calls of at
most 100 numbers within the connection's rate limit, renewed before they
lapse, never once delivered or expired, and a failed call is retried later
without stopping the run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import respx
from django.core.cache import cache
from django.utils import timezone

from desk.settings import CELERY_BEAT_SCHEDULE
from integrations.carriers import subscriptions
from integrations.carriers.ups.client import UpsClient
from integrations.models import Connection, Shipment, TrackingStatus
from integrations.ratelimit import SharedBucket
from integrations.tasks import subscribe_tracking_pushes
from tests.factories import make_order, make_tenant

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
UPS = "https://onlinetools.ups.com"
SUBSCRIBE_URL = UPS + "/api/track/v1/subscription/standard/package"
CREDENTIALS = {"client_id": "app", "client_secret": "s3cret", "webhook_secret": "ta-cred-41"}
# The numbers of the documented-shape answers in fixtures/webhooks.
ACCEPTED = ["1Z5E47R90312345678", "1Z5E47R90398765432"]
REFUSED = "1Z5E47R90300000000"


def _answer(fixture: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=json.loads((FIXTURES / fixture).read_text()))


def _echo_all_accepted(request: httpx.Request) -> httpx.Response:
    numbers = json.loads(request.content)["trackingNumberList"]
    return httpx.Response(200, json={"validTrackingNumbers": numbers})


def _sent_numbers(route) -> list[list[str]]:
    return [json.loads(call.request.content)["trackingNumberList"] for call in route.calls]


@pytest.fixture
def ups():
    """UPS at the boundary: a token, and the subscription endpoint (answer set per test)."""
    cache.delete(UpsClient(CREDENTIALS)._token_key)
    with respx.mock(assert_all_called=False) as mock:
        mock.post(UPS + "/security/v1/oauth/token").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": "14399"})
        )
        yield mock.post(SUBSCRIBE_URL)
    cache.delete(UpsClient(CREDENTIALS)._token_key)


@pytest.fixture
def connection(settings):
    settings.SITE_URL = "https://desk.example.com"
    tenant = make_tenant()
    connection = Connection.objects.create(
        tenant=tenant,
        provider="ups",
        kind=Connection.Kind.CARRIER,
        name="UPS",
        credentials=CREDENTIALS,
    )
    SharedBucket(f"carrier:ups:{connection.pk}").reset()
    return connection


def _shipment(connection, number: str, *, status=TrackingStatus.IN_TRANSIT, carrier="ups"):
    order = make_order(connection.tenant, shipment_status=None)
    return Shipment.objects.create(
        tenant=connection.tenant,
        order=order,
        carrier=carrier,
        tracking_number=number,
        status=status,
    )


def _run(now=None):
    return subscriptions.subscribe_due(now=now or timezone.now())


def test_moving_ups_shipments_are_subscribed_in_one_call_and_stamped(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    moving = [
        _shipment(connection, ACCEPTED[0], status=TrackingStatus.INFO_RECEIVED),
        _shipment(connection, ACCEPTED[1], status=TrackingStatus.EXCEPTION),
    ]
    delivered = _shipment(connection, "1Z5E47R90311111111", status=TrackingStatus.DELIVERED)
    expired = _shipment(connection, "1Z5E47R90322222222", status=TrackingStatus.EXPIRED)
    not_a_1z = _shipment(connection, "92748999999999999999999999")  # Mail Innovations
    other_carrier = _shipment(connection, "1Z5E47R90333333333", carrier="fedex")

    stats = _run()

    assert sorted(_sent_numbers(ups)[0]) == sorted(ACCEPTED) and ups.call_count == 1
    sent = json.loads(ups.calls.last.request.content)
    assert sent["destination"] == {
        "url": f"https://desk.example.com/webhooks/ups/{connection.public_id}",
        "credentialType": "Bearer",
        "credential": "ta-cred-41",
    }
    for shipment in moving:
        shipment.refresh_from_db()
        assert shipment.push_subscribed_at is not None
    for shipment in (delivered, expired, not_a_1z, other_carrier):
        shipment.refresh_from_db()
        assert shipment.push_subscribed_at is None and shipment.push_asked_at is None
    assert (stats.subscribed, stats.refused, stats.failed) == (2, 0, 0)


def test_a_subscribed_number_is_not_asked_for_again_until_renewal(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    _shipment(connection, ACCEPTED[0])
    now = timezone.now()

    _run(now)
    _run(now + timedelta(hours=7))
    _run(now + timedelta(days=12))

    assert ups.call_count == 1


def test_a_moving_shipment_is_renewed_the_day_before_its_14_days_lapse(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    shipment = _shipment(connection, ACCEPTED[0])
    now = timezone.now()
    _run(now)

    _run(now + timedelta(days=13, minutes=5))

    assert ups.call_count == 2
    shipment.refresh_from_db()
    assert shipment.push_subscribed_at == now + timedelta(days=13, minutes=5)


def test_a_delivered_shipment_is_never_renewed(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    shipment = _shipment(connection, ACCEPTED[0])
    now = timezone.now()
    _run(now)
    Shipment.objects.filter(pk=shipment.pk).update(status=TrackingStatus.DELIVERED)

    _run(now + timedelta(days=13, minutes=5))

    assert ups.call_count == 1


def test_numbers_go_to_ups_at_most_100_a_call(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    order = make_order(connection.tenant, shipment_status=None)
    Shipment.objects.bulk_create(
        Shipment(
            tenant=connection.tenant,
            order=order,
            carrier="ups",
            tracking_number=f"1Z5E47R903{i:08d}",
            status=TrackingStatus.IN_TRANSIT,
        )
        for i in range(205)
    )

    stats = _run()

    assert [len(numbers) for numbers in _sent_numbers(ups)] == [100, 100, 5]
    assert len({n for numbers in _sent_numbers(ups) for n in numbers}) == 205
    assert stats.subscribed == 205
    assert not Shipment.objects.filter(tenant=connection.tenant, push_subscribed_at=None).exists()


def test_a_partly_refused_call_keeps_the_accepted_and_asks_for_the_refused_later(ups, connection):
    ups.mock(return_value=_answer("ups_subscription_partial.json"))
    accepted = [_shipment(connection, number) for number in ACCEPTED]
    refused = _shipment(connection, REFUSED)
    now = timezone.now()

    stats = _run(now)

    assert (stats.subscribed, stats.refused, stats.failed) == (2, 1, 0)
    assert all(Shipment.objects.get(pk=s.pk).push_subscribed_at == now for s in accepted)
    refused.refresh_from_db()
    assert refused.push_subscribed_at is None and refused.push_asked_at == now
    _run(now + timedelta(minutes=5))
    assert ups.call_count == 1  # not asked again at once
    _run(now + subscriptions.ASK_AGAIN_AFTER + timedelta(minutes=1))
    assert _sent_numbers(ups)[-1] == [REFUSED]


def test_a_call_with_every_number_refused_is_read_as_refusals(ups, connection):
    ups.mock(return_value=_answer("ups_subscription_all_refused.json", status=400))
    refused = _shipment(connection, REFUSED)

    stats = _run()

    assert (stats.subscribed, stats.refused, stats.failed) == (0, 1, 0)
    refused.refresh_from_db()
    assert refused.push_subscribed_at is None and refused.push_asked_at is not None


def test_rate_limited_by_ups_the_batch_is_given_back_for_the_next_run(ups, connection):
    ups.mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "30"}, json={"response": {"errors": []}}),
            httpx.Response(200, json={"validTrackingNumbers": [ACCEPTED[0]]}),
        ]
    )
    shipment = _shipment(connection, ACCEPTED[0])
    now = timezone.now()

    stats = _run(now)

    assert stats.failed == 1 and "rate limited" in stats.errors[0]
    shipment.refresh_from_db()
    assert shipment.push_subscribed_at is None and shipment.push_asked_at is None
    _run(now + timedelta(minutes=5))
    shipment.refresh_from_db()
    assert shipment.push_subscribed_at == now + timedelta(minutes=5)


def test_no_call_is_made_when_the_connections_shared_rate_limit_is_spent(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    shipment = _shipment(connection, ACCEPTED[0])
    bucket = SharedBucket(f"carrier:ups:{connection.pk}", capacity=5, restore_rate=5)
    bucket.reserve(500, max_wait=1000)  # the pollers have taken the next 100 seconds

    stats = _run()

    bucket.reset()
    assert ups.call_count == 0
    assert stats.failed == 1
    shipment.refresh_from_db()
    assert shipment.push_asked_at is None  # asked again on the next run


def test_ups_down_for_one_tenant_does_not_stop_the_others(ups, connection):
    other = Connection.objects.create(
        tenant=make_tenant(),
        provider="ups",
        kind=Connection.Kind.CARRIER,
        name="UPS",
        credentials=CREDENTIALS,
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if str(connection.public_id) in json.loads(request.content)["destination"]["url"]:
            return httpx.Response(
                500,
                json={"response": {"errors": [{"code": "VSS100", "message": "unavailable"}]}},
            )
        return _echo_all_accepted(request)

    ups.mock(side_effect=answer)
    failing = _shipment(connection, ACCEPTED[0])
    served = _shipment(other, ACCEPTED[1])

    stats = _run()

    assert (stats.connections, stats.subscribed, stats.failed) == (2, 1, 1)
    served.refresh_from_db()
    failing.refresh_from_db()
    assert served.push_subscribed_at is not None
    assert failing.push_subscribed_at is None and failing.push_asked_at is None


def test_refused_credentials_wait_before_the_batch_is_asked_again(ups, connection):
    ups.mock(
        return_value=httpx.Response(
            403, json={"response": {"errors": [{"code": "250002", "message": "Blocked"}]}}
        )
    )
    shipment = _shipment(connection, ACCEPTED[0])
    now = timezone.now()

    stats = _run(now)
    _run(now + timedelta(minutes=5))

    assert stats.failed == 1 and ups.call_count == 1
    shipment.refresh_from_db()
    assert shipment.push_asked_at == now and shipment.push_subscribed_at is None


def test_an_expired_token_is_renewed_once(ups, connection):
    ups.mock(
        side_effect=[
            httpx.Response(401, json={"errors": [{"code": "UJ0001", "message": "Invalid token"}]}),
            httpx.Response(200, json={"validTrackingNumbers": [ACCEPTED[0]]}),
        ]
    )
    shipment = _shipment(connection, ACCEPTED[0])

    _run()

    shipment.refresh_from_db()
    assert shipment.push_subscribed_at is not None and ups.call_count == 2


def test_a_connection_without_a_track_alert_credential_subscribes_nothing(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    connection.credentials = {"client_id": "app", "client_secret": "s3cret"}
    connection.save()
    _shipment(connection, ACCEPTED[0])

    stats = _run()

    assert ups.call_count == 0 and stats.connections == 0


def test_a_reconnected_ups_account_subscribes_its_moving_shipments_again(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    shipment = _shipment(connection, ACCEPTED[0])
    now = timezone.now()
    _run(now)
    connection.is_active = False
    connection.save()
    Connection.objects.create(
        tenant=connection.tenant,
        provider="ups",
        kind=Connection.Kind.CARRIER,
        name="UPS (new app)",
        credentials=CREDENTIALS,
    )

    _run(now + timedelta(hours=7))

    assert ups.call_count == 2
    shipment.refresh_from_db()
    assert shipment.push_subscribed_at == now + timedelta(hours=7)


def test_a_batch_claimed_by_one_run_is_not_claimed_by_another(connection):
    _shipment(connection, ACCEPTED[0])
    subscriber = subscriptions.SUBSCRIBERS[0]
    now = timezone.now()

    first = subscriptions._claim(subscriber, connection, now)
    second = subscriptions._claim(subscriber, connection, now)

    assert list(first) == [ACCEPTED[0]] and second == {}


def test_beat_runs_the_subscription_task_every_few_minutes(ups, connection):
    ups.mock(side_effect=_echo_all_accepted)
    shipment = _shipment(connection, ACCEPTED[0])

    entry = CELERY_BEAT_SCHEDULE["subscribe-tracking-pushes"]
    result = subscribe_tracking_pushes()

    assert entry["task"] == subscribe_tracking_pushes.name
    assert entry["schedule"] <= 600
    assert result["subscribed"] == 1
    shipment.refresh_from_db()
    assert shipment.push_subscribed_at is not None
