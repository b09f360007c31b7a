"""UPS and AfterShip clients against the providers' documented HTTP exchanges, replayed with respx."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
import respx
from django.core.cache import cache

from integrations.carriers.aftership.client import AfterShipClient
from integrations.carriers.client import PermanentError, TransientError
from integrations.carriers.ups.client import UpsClient
from integrations.ratelimit import SharedBucket

FIXTURES = Path(__file__).parent / "fixtures"
UPS_TOKEN_URL = "https://onlinetools.ups.com/security/v1/oauth/token"
UPS_TRACK_URL = "https://onlinetools.ups.com/api/track/v1/details/1Z023E2X0214323462"
AFTERSHIP = "https://api.aftership.com/tracking/2024-07/trackings"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _token_body(token: str = "tok-1", expires_in: str = "14399") -> dict:
    # The shape UPS's OAuth client-credentials endpoint documents.
    return {
        "token_type": "Bearer",
        "issued_at": "1700000000000",
        "client_id": "app-id",
        "access_token": token,
        "expires_in": expires_in,
        "status": "approved",
    }


@pytest.fixture
def bucket():
    # Generous so tests never wait; reset so runs do not share a level.
    b = SharedBucket("test-carrier-client", capacity=1000, restore_rate=1000)
    b.reset()
    yield b
    b.reset()


@pytest.fixture
def ups(bucket):
    client = UpsClient(
        {"client_id": "app-id", "client_secret": "app-secret", "merchant_id": "A1B2C3"},
        bucket=bucket,
    )
    # Only this client's token key: the cache's Redis is shared with other users.
    cache.delete(client._token_key)
    yield client
    client.close()
    cache.delete(client._token_key)


@respx.mock
def test_ups_gets_a_token_with_client_credentials_then_tracks(ups):
    token = respx.post(UPS_TOKEN_URL).mock(return_value=httpx.Response(200, json=_token_body()))
    track = respx.get(UPS_TRACK_URL).mock(
        return_value=httpx.Response(200, content=_fixture("ups/TrackingResponseJSON.json"))
    )

    result = ups.track("1Z023E2X0214323462")

    assert result.outcome == "found"
    assert result.tracking_number == "1Z023E2X0214323462"
    sent = token.calls.last.request
    assert (
        sent.headers["authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    )
    assert sent.headers["x-merchant-id"] == "A1B2C3"
    assert sent.content == b"grant_type=client_credentials"
    asked = track.calls.last.request
    assert asked.headers["authorization"] == "Bearer tok-1"
    assert asked.headers["transactionSrc"] and len(asked.headers["transId"]) == 32
    assert asked.url.params["locale"] == "en_US"


@respx.mock
def test_ups_token_is_reused_until_it_expires(ups):
    token = respx.post(UPS_TOKEN_URL).mock(return_value=httpx.Response(200, json=_token_body()))
    respx.get(UPS_TRACK_URL).mock(
        return_value=httpx.Response(200, content=_fixture("ups/TrackingResponseJSON.json"))
    )

    ups.track("1Z023E2X0214323462")
    ups.track("1Z023E2X0214323462")

    assert token.call_count == 1


@respx.mock
def test_ups_401_fetches_one_fresh_token_and_retries(ups):
    respx.post(UPS_TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=_token_body("old")),
            httpx.Response(200, json=_token_body("new")),
        ]
    )
    track = respx.get(UPS_TRACK_URL).mock(
        side_effect=[
            httpx.Response(401, content=_fixture("ups/AuthError.json")),
            httpx.Response(200, content=_fixture("ups/TrackingResponseJSON.json")),
        ]
    )

    assert ups.track("1Z023E2X0214323462").outcome == "found"
    assert [c.request.headers["authorization"] for c in track.calls] == [
        "Bearer old",
        "Bearer new",
    ]


@respx.mock
def test_ups_refused_client_credentials_are_permanent(ups):
    respx.post(UPS_TOKEN_URL).mock(
        return_value=httpx.Response(401, content=_fixture("ups/AuthError.json"))
    )
    with pytest.raises(PermanentError, match="Invalid Access License number"):
        ups.track("1Z023E2X0214323462")


@respx.mock
def test_ups_not_found_and_invalid_numbers_are_results_not_exceptions(ups):
    respx.post(UPS_TOKEN_URL).mock(return_value=httpx.Response(200, json=_token_body()))
    respx.get(UPS_TRACK_URL).mock(
        return_value=httpx.Response(
            404, content=_fixture("ups/TrackingNumberNotFoundResponseJSON.json")
        )
    )
    respx.get("https://onlinetools.ups.com/api/track/v1/details/1ZBAD").mock(
        return_value=httpx.Response(
            400, content=_fixture("ups/InvalidTrackingNumberResponseJSON.json")
        )
    )

    assert ups.track("1Z023E2X0214323462").outcome == "not_found"
    assert ups.track("1ZBAD").outcome == "not_found"


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(429, headers={"Retry-After": "30"}, json={}),
        httpx.Response(503, json={}),
        httpx.ConnectTimeout("timed out"),
    ],
)
def test_ups_rate_limits_outages_and_timeouts_are_transient(ups, answer):
    respx.post(UPS_TOKEN_URL).mock(return_value=httpx.Response(200, json=_token_body()))
    route = respx.get(UPS_TRACK_URL)
    if isinstance(answer, Exception):
        route.mock(side_effect=answer)
    else:
        route.mock(return_value=answer)
    with pytest.raises(TransientError) as caught:
        ups.track("1Z023E2X0214323462")
    if isinstance(answer, httpx.Response) and answer.status_code == 429:
        assert caught.value.retry_after == 30


def test_ups_without_credentials_is_permanent(bucket):
    with pytest.raises(PermanentError):
        UpsClient({}, bucket=bucket).token()


def test_an_empty_shared_bucket_defers_instead_of_calling(bucket):
    tight = SharedBucket("test-carrier-client-tight", capacity=1, restore_rate=0.01)
    tight.reset()
    client = UpsClient({"client_id": "a", "client_secret": "b"}, bucket=tight)
    client.max_wait = 0.5
    with respx.mock:
        respx.post(UPS_TOKEN_URL).mock(return_value=httpx.Response(200, json=_token_body()))
        cache.delete(client._token_key)
        client.token()  # spends the only point
        with pytest.raises(TransientError, match="Rate limited"):
            client.token(fresh=True)
    tight.reset()
    cache.delete(client._token_key)


@pytest.fixture
def aftership(bucket):
    client = AfterShipClient({"api_key": "as-key"}, bucket=bucket)
    yield client
    client.close()


@respx.mock
def test_aftership_looks_the_number_up_with_the_api_key_and_courier_slug(aftership):
    route = respx.get(AFTERSHIP).mock(
        return_value=httpx.Response(200, content=_fixture("aftership/GetTrackingsResult.json"))
    )

    result = aftership.track("1111111111111", carrier="fedex")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["as-api-key"] == "as-key"
    assert sent.url.params["tracking_numbers"] == "1111111111111"
    assert sent.url.params["slug"] == "fedex"


@respx.mock
def test_aftership_registers_a_number_it_does_not_know_yet(aftership):
    empty = json.loads(_fixture("aftership/GetTrackingsResult.json"))
    empty["data"]["trackings"] = []
    respx.get(AFTERSHIP).mock(return_value=httpx.Response(200, json=empty))
    create = respx.post(AFTERSHIP).mock(
        return_value=httpx.Response(201, content=_fixture("aftership/CreateTrackingResult.json"))
    )

    result = aftership.track("1111111111111", carrier="fedex")

    assert result.outcome == "found"
    assert result.status == "pending"
    assert json.loads(create.calls.last.request.content) == {
        "tracking_number": "1111111111111",
        "slug": "fedex",
    }


@respx.mock
def test_aftership_reads_the_versioned_api_single_tracking_shape(aftership):
    v4 = json.loads(_fixture("aftership/CreateTrackingResult.json"))
    flat = {"meta": {"code": 201}, "data": v4["data"]["tracking"]}
    empty = {"meta": {"code": 200}, "data": {"trackings": []}}
    respx.get(AFTERSHIP).mock(return_value=httpx.Response(200, json=empty))
    respx.post(AFTERSHIP).mock(return_value=httpx.Response(201, json=flat))

    result = aftership.track("1111111111111")

    assert result.outcome == "found"
    assert result.tracking_number == "1111111111111"


@respx.mock
def test_aftership_refused_key_is_permanent(aftership):
    respx.get(AFTERSHIP).mock(
        return_value=httpx.Response(
            401, json={"meta": {"code": 401, "message": "Invalid API key.", "type": "Unauthorized"}}
        )
    )
    with pytest.raises(PermanentError):
        aftership.track("1111111111111")
