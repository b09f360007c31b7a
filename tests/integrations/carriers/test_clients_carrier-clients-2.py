"""Carrier tracking clients against each carrier's documented HTTP exchange, replayed with respx.

Each carrier: the request carries the documented URL, method and
authentication; the carrier's own responses parse to the right outcome;
refused credentials are permanent; tokens are fetched once and reused."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
import respx
from django.core.cache import cache

from integrations.carriers.client import PermanentError, TransientError
from integrations.ratelimit import SharedBucket

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def bucket():
    # Generous so tests never wait; reset so runs do not share a level.
    b = SharedBucket("test-carrier-clients-2", capacity=1000, restore_rate=1000)
    b.reset()
    yield b
    b.reset()


@pytest.fixture
def make(bucket):
    """Build a client with the shared test bucket; forget its cached token afterwards."""
    made = []

    def build(client_class, credentials):
        client = client_class(credentials, bucket=bucket)
        if hasattr(client, "_token_key"):
            cache.delete(client._token_key)
        made.append(client)
        return client

    yield build
    for client in made:
        if hasattr(client, "_token_key"):
            cache.delete(client._token_key)
        client.close()


# --- Royal Mail ---------------------------------------------------------------

from integrations.carriers.royalmail.client import RoyalMailClient  # noqa: E402

ROYALMAIL = "https://api.royalmail.net/mailpieces/v2"


@respx.mock
def test_royalmail_asks_for_the_events_with_the_ibm_client_pair_and_terms_header(make):
    client = make(RoyalMailClient, {"client_id": "rm-id", "client_secret": "rm-secret"})
    route = respx.get(f"{ROYALMAIL}/090367574000000FE1E1B/events").mock(
        return_value=httpx.Response(
            200, content=_fixture("royalmail/royalmail__TrackingResponseJSON.json")
        )
    )

    result = client.track("090367574000000FE1E1B")

    assert result.outcome == "found"
    assert result.tracking_number == "FQ087430672GB"
    assert result.status == "in_transit"
    sent = route.calls.last.request
    assert sent.headers["X-IBM-Client-Id"] == "rm-id"
    assert sent.headers["X-IBM-Client-Secret"] == "rm-secret"
    assert sent.headers["X-Accept-RMG-Terms"] == "yes"


@respx.mock
def test_royalmail_unknown_barcode_is_not_found_and_a_rejected_request_an_error(make):
    client = make(RoyalMailClient, {"client_id": "rm-id", "client_secret": "rm-secret"})
    respx.get(f"{ROYALMAIL}/FQ000000000GB/events").mock(
        return_value=httpx.Response(404, content=_fixture("royalmail/NotFoundResponse.json"))
    )
    respx.get(f"{ROYALMAIL}/FQ087430672GB/events").mock(
        return_value=httpx.Response(
            400, content=_fixture("royalmail/royalmail__TrackingErrorResponseJSON.json")
        )
    )

    assert client.track("FQ000000000GB").outcome == "not_found"
    rejected = client.track("FQ087430672GB")
    assert rejected.outcome == "error"
    assert rejected.error_code == "E0004"


@respx.mock
def test_royalmail_unknown_client_id_is_permanent_with_the_gateways_words(make):
    client = make(RoyalMailClient, {"client_id": "nope", "client_secret": "nope"})
    respx.get(f"{ROYALMAIL}/FQ087430672GB/events").mock(
        return_value=httpx.Response(401, content=_fixture("royalmail/AuthErrorResponse.json"))
    )
    with pytest.raises(PermanentError, match="Client id not registered"):
        client.track("FQ087430672GB")


def test_royalmail_without_credentials_is_permanent(make):
    with pytest.raises(PermanentError):
        make(RoyalMailClient, {}).track("FQ087430672GB")


# --- DPD ----------------------------------------------------------------------

from integrations.carriers.dpd.client import DpdClient  # noqa: E402

DPD_LOGIN = "https://wsshipper.dpd.be/soap/services/LoginService/V2_1"
DPD_TRACK = "https://wsshipper.dpd.be/soap/services/ParcelLifeCycleService/V2_0"
DPD_TOKEN = "dGhpcyBpcyBub3QgYSByZWFsIHRva2Vu"


@pytest.fixture
def dpd(make):
    return make(DpdClient, {"delis_id": "sandboxdpd", "password": "s3cret&<"})


@respx.mock
def test_dpd_logs_in_once_then_tracks_with_the_token_in_the_soap_header(dpd):
    login = respx.post(DPD_LOGIN).mock(
        return_value=httpx.Response(200, content=_fixture("dpd/LoginResponse.xml"))
    )
    track = respx.post(DPD_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("dpd/TrackingResponse.xml"))
    )

    first = dpd.track("09981122330100")
    dpd.track("09981122330100")

    assert first.outcome == "found"
    assert first.status == "failed_attempt"
    assert login.call_count == 1
    sent_login = login.calls.last.request
    assert sent_login.headers["SOAPAction"].endswith("/LoginService/2.1/getAuth")
    assert b"<delisId>sandboxdpd</delisId>" in sent_login.content
    assert b"<password>s3cret&amp;&lt;</password>" in sent_login.content  # escaped
    asked = track.calls.last.request
    assert asked.headers["SOAPAction"].endswith("/ParcelLifeCycleService/2.0/getTrackingData")
    assert f"<authToken>{DPD_TOKEN}</authToken>".encode() in asked.content
    assert b"<parcelLabelNumber>09981122330100</parcelLabelNumber>" in asked.content


@respx.mock
def test_dpd_refused_login_is_permanent_with_dpds_message(dpd):
    # DPD sends its authentication fault as a SOAP fault, with HTTP 500.
    respx.post(DPD_LOGIN).mock(
        return_value=httpx.Response(500, content=_fixture("dpd/ErrorResponse.xml"))
    )
    with pytest.raises(PermanentError, match="check delisId and password"):
        dpd.track("09981122330100")


@respx.mock
def test_dpd_token_refused_mid_life_is_renewed_once(dpd):
    login = respx.post(DPD_LOGIN).mock(
        return_value=httpx.Response(200, content=_fixture("dpd/LoginResponse.xml"))
    )
    respx.post(DPD_TRACK).mock(
        side_effect=[
            httpx.Response(500, content=_fixture("dpd/ErrorResponse.xml")),
            httpx.Response(200, content=_fixture("dpd/TrackingResponse.xml")),
        ]
    )

    assert dpd.track("09981122330100").outcome == "found"
    assert login.call_count == 2


@respx.mock
def test_dpd_outage_without_a_fault_is_transient(dpd):
    respx.post(DPD_LOGIN).mock(
        return_value=httpx.Response(200, content=_fixture("dpd/LoginResponse.xml"))
    )
    respx.post(DPD_TRACK).mock(return_value=httpx.Response(503, text="Service Unavailable"))
    with pytest.raises(TransientError):
        dpd.track("09981122330100")


@respx.mock
def test_dpd_sandbox_and_netherlands_use_their_own_hosts(make):
    client = make(DpdClient, {"delis_id": "u", "password": "p", "country": "nl", "sandbox": True})
    login = respx.post(
        "https://shipperadmintest.dpd.nl/PublicApi/soap/services/LoginService/V2_1"
    ).mock(return_value=httpx.Response(200, content=_fixture("dpd/LoginResponse.xml")))

    assert "Signed in" in client.check()
    assert login.call_count == 1
