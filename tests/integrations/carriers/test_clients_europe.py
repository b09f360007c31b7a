"""Carrier tracking clients against each carrier's documented HTTP exchange, replayed with respx.

Each carrier: the request carries the documented URL, method and
authentication; the carrier's own responses parse to the right outcome;
refused credentials are permanent; tokens are fetched once and reused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from integrations.carriers.client import PermanentError, TransientError

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_FIXTURES = Path(__file__).parent / "client_fixtures"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


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
        return_value=httpx.Response(
            200, content=(CLIENT_FIXTURES / "dpd" / "LoginResponse.xml").read_bytes()
        )
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
        return_value=httpx.Response(
            200, content=(CLIENT_FIXTURES / "dpd" / "LoginResponse.xml").read_bytes()
        )
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
        return_value=httpx.Response(
            200, content=(CLIENT_FIXTURES / "dpd" / "LoginResponse.xml").read_bytes()
        )
    )
    respx.post(DPD_TRACK).mock(return_value=httpx.Response(503, text="Service Unavailable"))
    with pytest.raises(TransientError):
        dpd.track("09981122330100")


@respx.mock
def test_dpd_sandbox_and_netherlands_use_their_own_hosts(make):
    client = make(DpdClient, {"delis_id": "u", "password": "p", "country": "nl", "sandbox": True})
    login = respx.post(
        "https://shipperadmintest.dpd.nl/PublicApi/soap/services/LoginService/V2_1"
    ).mock(
        return_value=httpx.Response(
            200, content=(CLIENT_FIXTURES / "dpd" / "LoginResponse.xml").read_bytes()
        )
    )

    assert "Signed in" in client.check()
    assert login.call_count == 1


def _token_body(token: str = "tok-1", expires_in: int = 3600) -> dict:
    # An OAuth 2.0 token response (RFC 6749 section 5.1), as GLS and Hermes send it.
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


# --- DPD France ---------------------------------------------------------------

from integrations.carriers.dpd_france.client import DpdFranceClient  # noqa: E402

DPD_FRANCE = "https://webtrace.dpd.fr/trace-service/Webtrace_Service.asmx"


@pytest.fixture
def dpd_france(make):
    return make(
        DpdFranceClient,
        {"userid": "u1", "password": "p1", "center_number": "77", "customer_number": "12345"},
    )


@respx.mock
def test_dpd_france_sends_the_user_credentials_header_and_the_customer(dpd_france):
    route = respx.post(DPD_FRANCE).mock(
        return_value=httpx.Response(200, content=_fixture("dpd_france/TrackingResponseXML.xml"))
    )

    result = dpd_france.track("250123456789012345")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["SOAPAction"] == "http://www.cargonet.software/GetShipmentTrace"
    body = sent.content.decode()
    assert "<imt:userid>u1</imt:userid><imt:password>p1</imt:password>" in body
    assert "<imt:countrycode>250</imt:countrycode><imt:centernumber>77</imt:centernumber>" in body
    assert "<imt:ShipmentNumber>250123456789012345</imt:ShipmentNumber>" in body


@respx.mock
def test_dpd_france_caller_ip_not_whitelisted_is_permanent(dpd_france):
    respx.post(DPD_FRANCE).mock(
        return_value=httpx.Response(200, content=_fixture("dpd_france/ErrorResponseXML.xml"))
    )
    with pytest.raises(PermanentError, match="Caller IP not whitelisted"):
        dpd_france.track("250123456789012345")


# --- Chronopost ---------------------------------------------------------------

from integrations.carriers.chronopost.client import ChronopostClient  # noqa: E402

CHRONOPOST = "https://ws.chronopost.fr/tracking-cxf/TrackingServiceWS"


@respx.mock
def test_chronopost_tracks_a_skybill_in_the_chosen_language(make):
    client = make(ChronopostClient, {"language": "fr_FR"})
    route = respx.post(CHRONOPOST).mock(
        return_value=httpx.Response(200, content=_fixture("chronopost/TrackingResponse.xml"))
    )

    result = client.track("XT845237012JB")

    assert result.outcome == "found"
    assert result.status == "delivered"
    body = route.calls.last.request.content.decode()
    assert "<cxf:trackSkybillV2><language>fr_FR</language>" in body
    assert "<skybillNumber>XT845237012JB</skybillNumber>" in body


@respx.mock
def test_chronopost_error_code_is_an_error_result(make):
    respx.post(CHRONOPOST).mock(
        return_value=httpx.Response(200, content=_fixture("chronopost/ErrorResponse.xml"))
    )
    assert make(ChronopostClient, {}).track("XT845237012JB").outcome == "error"


# --- GLS ----------------------------------------------------------------------

from integrations.carriers.gls.client import GlsClient  # noqa: E402

GLS_TOKEN = "https://api.gls-group.net/oauth2/v2/token"
GLS_TRACK = "https://api.gls-group.net/track-and-trace-v1/tracking/simple/trackids/36301917596"


@pytest.fixture
def gls(make):
    return make(GlsClient, {"client_id": "gls-id", "client_secret": "gls-secret"})


@respx.mock
def test_gls_buys_a_token_with_client_credentials_and_reuses_it(gls):
    token = respx.post(GLS_TOKEN).mock(return_value=httpx.Response(200, json=_token_body()))
    track = respx.get(GLS_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("gls/TrackingResponse.json"))
    )

    result = gls.track("36301917596")
    gls.track("36301917596")

    assert result.outcome == "found"
    assert result.status == "in_transit"
    assert token.call_count == 1
    sent = token.calls.last.request
    assert sent.headers["authorization"] == _basic("gls-id", "gls-secret")
    assert sent.content == b"grant_type=client_credentials"
    assert track.calls.last.request.headers["authorization"] == "Bearer tok-1"


@respx.mock
def test_gls_unknown_parcel_is_not_found(gls):
    respx.post(GLS_TOKEN).mock(return_value=httpx.Response(200, json=_token_body()))
    respx.get(GLS_TRACK).mock(
        return_value=httpx.Response(404, content=_fixture("gls/ErrorResponse.json"))
    )
    assert gls.track("36301917596").outcome == "not_found"


@respx.mock
def test_gls_401_fetches_one_fresh_token_and_refused_credentials_are_permanent(gls):
    respx.post(GLS_TOKEN).mock(
        side_effect=[
            httpx.Response(200, json=_token_body("old")),
            httpx.Response(401, json={"error": "invalid_client"}),
        ]
    )
    respx.get(GLS_TRACK).mock(return_value=httpx.Response(401, json={}))
    with pytest.raises(PermanentError, match="invalid_client"):
        gls.track("36301917596")


# --- Hermes -------------------------------------------------------------------

from integrations.carriers.hermes.client import HermesClient  # noqa: E402

HERMES_TOKEN = "https://authme.myhermes.de/authorization-facade/oauth2/access_token"
HERMES_TRACK = "https://de-api.hermesworld.com/services/hsi/shipmentinfo"


@pytest.fixture
def hermes(make):
    return make(
        HermesClient,
        {"username": "api-user", "password": "pw", "client_id": "cid", "client_secret": "cs"},
    )


@respx.mock
def test_hermes_logs_in_with_the_password_grant_and_reuses_the_token(hermes):
    token = respx.post(HERMES_TOKEN).mock(return_value=httpx.Response(200, json=_token_body()))
    track = respx.get(HERMES_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("hermes/TrackingResponse.json"))
    )

    result = hermes.track("H1234567890123456789")
    hermes.track("H1234567890123456789")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert token.call_count == 1
    form = parse_qs(token.calls.last.request.content.decode())
    assert form == {
        "grant_type": ["password"],
        "username": ["api-user"],
        "password": ["pw"],
        "client_id": ["cid"],
        "client_secret": ["cs"],
    }
    asked = track.calls.last.request
    assert asked.url.params["shipmentID"] == "H1234567890123456789"
    assert asked.headers["authorization"] == "Bearer tok-1"


@respx.mock
def test_hermes_unknown_shipment_is_not_found_and_a_refused_login_permanent(hermes, make):
    respx.post(HERMES_TOKEN).mock(return_value=httpx.Response(200, json=_token_body()))
    respx.get(HERMES_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("hermes/TrackingErrorResponse.json"))
    )
    assert hermes.track("H1234567890123456789").outcome == "not_found"

    sandbox = make(
        HermesClient,
        {"username": "u", "password": "bad", "client_id": "c", "client_secret": "s", "sandbox": 1},
    )
    respx.post(HERMES_TOKEN.replace("authme.", "authme-int.")).mock(
        return_value=httpx.Response(
            401, json={"error": "invalid_grant", "error_description": "Bad credentials"}
        )
    )
    with pytest.raises(PermanentError, match="Bad credentials"):
        sandbox.track("H1234567890123456789")


# --- La Poste / Colissimo -----------------------------------------------------

from integrations.carriers.laposte.client import LaPosteClient  # noqa: E402

LAPOSTE = "https://api.laposte.fr/suivi/v2/idships"


@respx.mock
def test_laposte_tracks_with_the_okapi_key(make):
    client = make(LaPosteClient, {"api_key": "okapi-key", "language": "en_US"})
    route = respx.get(f"{LAPOSTE}/EW112720413FR").mock(
        return_value=httpx.Response(200, content=_fixture("colissimo/TrackingResponse.json"))
    )

    result = client.track("EW112720413FR")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["X-Okapi-Key"] == "okapi-key"
    assert sent.url.params["lang"] == "en_US"


@respx.mock
def test_laposte_invalid_number_is_not_found_and_a_refused_key_permanent(make):
    client = make(LaPosteClient, {"api_key": "okapi-key"})
    respx.get(f"{LAPOSTE}/XX").mock(
        return_value=httpx.Response(400, content=_fixture("laposte/ErrorResponse.json"))
    )
    respx.get(f"{LAPOSTE}/EW112720413FR").mock(
        return_value=httpx.Response(
            401, json={"code": "UNAUTHORIZED", "message": "This action requires an authorization"}
        )
    )

    assert client.track("XX").outcome == "not_found"
    with pytest.raises(PermanentError, match="requires an authorization"):
        client.track("EW112720413FR")


# --- bpost --------------------------------------------------------------------

from integrations.carriers.bpost.client import BpostClient  # noqa: E402

BPOST = "https://api.parcel.bpost.cloud/services/trackedmail/item"


@respx.mock
def test_bpost_tracks_an_item_with_basic_auth(make):
    client = make(BpostClient, {"account_id": "107280", "passphrase": "pass"})
    number = "323212345659900040669030"
    route = respx.get(f"{BPOST}/{number}/trackingInfo").mock(
        return_value=httpx.Response(200, content=_fixture("bpost/TrackingResponse.xml"))
    )

    result = client.track(number)

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert route.calls.last.request.headers["authorization"] == _basic("107280", "pass")


@respx.mock
def test_bpost_system_exception_is_an_error_and_a_refused_account_permanent(make):
    client = make(BpostClient, {"account_id": "107280", "passphrase": "pass"})
    respx.get(f"{BPOST}/A/trackingInfo").mock(
        return_value=httpx.Response(400, content=_fixture("bpost/ErrorResponse.xml"))
    )
    respx.get(f"{BPOST}/B/trackingInfo").mock(return_value=httpx.Response(401, text=""))

    assert client.track("A").outcome == "error"
    with pytest.raises(PermanentError):
        client.track("B")


# --- PostNL -------------------------------------------------------------------

from integrations.carriers.postnl.client import PostNLClient  # noqa: E402

POSTNL = "https://api.postnl.nl/shipment/v2/status/barcode"


@respx.mock
def test_postnl_asks_for_the_complete_status_with_the_apikey_header(make):
    client = make(PostNLClient, {"api_key": "pnl-key"})
    route = respx.get(f"{POSTNL}/3SDEVC288882229").mock(
        return_value=httpx.Response(200, content=_fixture("postnl/CompleteStatusResponse.json"))
    )

    result = client.track("3SDEVC288882229")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["apikey"] == "pnl-key"
    assert sent.url.params["detail"] == "true"


@respx.mock
def test_postnl_unknown_barcode_is_not_found_and_an_invalid_key_permanent(make):
    client = make(PostNLClient, {"api_key": "pnl-key"})
    respx.get(f"{POSTNL}/3SDEVC000000000").mock(
        return_value=httpx.Response(200, content=_fixture("postnl/NotFoundResponse.json"))
    )
    respx.get(f"{POSTNL}/3SDEVC288882229").mock(
        return_value=httpx.Response(401, content=_fixture("postnl/ErrorResponse.json"))
    )

    assert client.track("3SDEVC000000000").outcome == "not_found"
    with pytest.raises(PermanentError, match="Invalid ApiKey"):
        client.track("3SDEVC288882229")


def test_postnl_sandbox_keeps_to_its_documented_15_calls_a_minute(bucket):
    assert PostNLClient({"api_key": "k"}, bucket=bucket).requests_per_second == 1000 / 60
    sandbox = PostNLClient({"api_key": "k", "sandbox": True})
    assert sandbox.requests_per_second == 15 / 60
    assert sandbox.base == "https://api-sandbox.postnl.nl"
    sandbox.close()


# --- TNT ----------------------------------------------------------------------

from integrations.carriers.tnt.client import TntClient  # noqa: E402

TNT = "https://express.tnt.com/expressconnect/track.do"


@respx.mock
def test_tnt_posts_a_track_request_as_xml_in_with_basic_auth(make):
    client = make(TntClient, {"username": "tnt-user", "password": "pw", "origin_country": "de"})
    route = respx.post(TNT).mock(
        return_value=httpx.Response(200, content=_fixture("tnt/TRACKING_RESPONSE.xml"))
    )

    result = client.track("123456782")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("tnt-user", "pw")
    xml_in = parse_qs(sent.content.decode())["xml_in"][0]
    assert '<TrackRequest locale="en_US" version="3.1">' in xml_in
    assert 'originCountry="DE"' in xml_in
    assert "<ConsignmentNumber>123456782</ConsignmentNumber>" in xml_in


@respx.mock
def test_tnt_unauthorized_access_in_a_200_is_permanent(make):
    respx.post(TNT).mock(
        return_value=httpx.Response(200, content=_fixture("tnt/TRACKING_ERROR_RESPONSE.xml"))
    )
    with pytest.raises(PermanentError):
        make(TntClient, {"username": "u", "password": "p"}).track("123456782")


# --- Landmark Global ----------------------------------------------------------

from integrations.carriers.landmark.client import LandmarkClient  # noqa: E402

LANDMARK = "https://api.landmarkglobal.com/v2/Track.php"


@respx.mock
def test_landmark_posts_the_login_and_client_id_inside_the_track_request(make):
    client = make(
        LandmarkClient, {"username": "lm", "password": "pw", "client_id": "1234", "sandbox": True}
    )
    route = respx.post(LANDMARK).mock(
        return_value=httpx.Response(
            200, content=_fixture("landmark/OUT_FOR_DELIVERY_TRACKING_RESPONSE_XML.xml")
        )
    )

    result = client.track("LTN49831232N2")

    assert result.outcome == "found"
    assert result.status == "out_for_delivery"
    body = route.calls.last.request.content.decode()
    assert "<Login><Username>lm</Username><Password>pw</Password></Login>" in body
    assert "<Test>true</Test><ClientID>1234</ClientID>" in body
    assert "<TrackingNumber>LTN49831232N2</TrackingNumber>" in body
    assert "<RetrievalType>Historical</RetrievalType>" in body


@respx.mock
def test_landmark_login_error_in_a_200_is_permanent_with_its_message(make):
    respx.post(LANDMARK).mock(
        return_value=httpx.Response(200, content=_fixture("landmark/ERROR_RESPONSE_XML.xml"))
    )
    client = make(LandmarkClient, {"username": "lm", "password": "bad", "client_id": "1"})
    with pytest.raises(PermanentError, match="username/password combination"):
        client.track("LTN49831232N2")


# --- Asendia ------------------------------------------------------------------

from integrations.carriers.asendia.client import AsendiaClient  # noqa: E402

ASENDIA_LOGIN = "https://www.asendia-sync.com/api/authenticate"
ASENDIA_TRACK = "https://www.asendia-sync.com/api/customers/CUST123/tracking"


@pytest.fixture
def asendia(make):
    return make(AsendiaClient, {"username": "as", "password": "pw", "customer_id": "CUST123"})


@respx.mock
def test_asendia_logs_in_once_and_tracks_with_the_jwt(asendia):
    login = respx.post(ASENDIA_LOGIN).mock(
        return_value=httpx.Response(200, json={"id_token": "jwt-1"})
    )
    track = respx.get(f"{ASENDIA_TRACK}/ASENDIA123456789").mock(
        return_value=httpx.Response(200, content=_fixture("asendia/TrackingResponse.json"))
    )

    result = asendia.track("ASENDIA123456789")
    asendia.track("ASENDIA123456789")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert login.call_count == 1
    assert json.loads(login.calls.last.request.content) == {"username": "as", "password": "pw"}
    assert track.calls.last.request.headers["authorization"] == "Bearer jwt-1"


@respx.mock
def test_asendia_unknown_number_is_not_found_and_a_refused_login_permanent(asendia):
    respx.post(ASENDIA_LOGIN).mock(
        side_effect=[
            httpx.Response(200, json={"id_token": "jwt-1"}),
            httpx.Response(401, json={"title": "Unauthorized", "detail": "Bad credentials"}),
        ]
    )
    respx.get(f"{ASENDIA_TRACK}/INVALID123").mock(
        return_value=httpx.Response(404, content=_fixture("asendia/ErrorResponse.json"))
    )
    respx.get(f"{ASENDIA_TRACK}/ASENDIA123456789").mock(return_value=httpx.Response(401))

    assert asendia.track("INVALID123").outcome == "not_found"
    with pytest.raises(PermanentError, match="Bad credentials"):
        asendia.track("ASENDIA123456789")


# --- Spring GDS ---------------------------------------------------------------

from integrations.carriers.spring.client import SpringClient  # noqa: E402


@respx.mock
def test_spring_sends_the_track_shipment_command_with_the_api_key(make):
    client = make(SpringClient, {"api_key": "spring-key", "sandbox": True})
    route = respx.post("https://mtapi.net/").mock(
        return_value=httpx.Response(200, content=_fixture("spring/TrackingResponse.json"))
    )

    result = client.track("LXAB00000000NL")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.url.params["testMode"] == "1"
    assert sent.headers["content-type"] == "text/json"
    assert json.loads(sent.content) == {
        "Apikey": "spring-key",
        "Command": "TrackShipment",
        "Shipment": {"TrackingNumber": "LXAB00000000NL"},
    }


@respx.mock
def test_spring_error_level_10_for_an_unknown_number_is_not_found(make):
    route = respx.post("https://mtapi.net/").mock(
        return_value=httpx.Response(200, content=_fixture("spring/TrackingErrorResponse.json"))
    )
    assert make(SpringClient, {"api_key": "k"}).track("LX000").outcome == "not_found"
    assert "testMode" not in route.calls.last.request.url.params


# --- ParcelOne ----------------------------------------------------------------

from integrations.carriers.parcelone.client import ParcelOneClient  # noqa: E402

PARCELONE = "https://api.parcel.one/v1/tracklmc/tracking"


@respx.mock
def test_parcelone_asks_tracklmc_with_basic_auth_and_the_last_mile_carrier(make):
    client = make(ParcelOneClient, {"username": "p1", "password": "pw"})
    route = respx.get(f"{PARCELONE}/PA1/PO123456").mock(
        return_value=httpx.Response(200, content=_fixture("parcelone/TrackingResponseJSON.json"))
    )

    result = client.track("PO123456")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert route.calls.last.request.headers["authorization"] == _basic("p1", "pw")


@respx.mock
def test_parcelone_refused_user_is_permanent(make):
    respx.get(f"{PARCELONE}/DHL/PO123456").mock(return_value=httpx.Response(401, text=""))
    client = make(ParcelOneClient, {"username": "p1", "password": "bad", "carrier_id": "DHL"})
    with pytest.raises(PermanentError):
        client.track("PO123456")


# --- Connectable --------------------------------------------------------------

MY_CARRIERS = {
    "royalmail", "dpd", "dpd_france", "gls", "hermes", "laposte", "chronopost", "bpost",
    "postnl", "tnt", "landmark", "asendia", "spring", "parcelone",
}  # fmt: skip


def test_each_carrier_with_a_client_is_connectable_with_its_own_fields():
    from integrations import providers
    from integrations.carriers import registry

    assert providers.tracking_client_codes() >= MY_CARRIERS
    # Colissimo is tracked through La Poste's connection, not a second one.
    assert "colissimo" not in providers.tracking_client_codes()
    for code in MY_CARRIERS:
        assert registry.get(code).capabilities["client"] is True, code
        spec = providers.get(code)
        secrets = [f.name for f in spec.fields if f.secret]
        assert secrets or code == "chronopost", f"{code} stores no secret"
