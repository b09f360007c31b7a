"""Tracking clients for FedEx, USPS, the DHL family, the Canadian carriers,
Amazon Shipping and the 17TRACK / EasyPost / ShipEngine aggregators, against
each provider's documented HTTP exchange, replayed with respx."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
import respx

from integrations.carriers.amazon_shipping.client import AmazonShippingClient
from integrations.carriers.auth import is_sandbox
from integrations.carriers.canadapost.client import CanadaPostClient
from integrations.carriers.canpar.client import CanparClient
from integrations.carriers.client import PermanentError, TransientError
from integrations.carriers.dhl.client import DhlClient
from integrations.carriers.dhl_express.client import DhlExpressClient
from integrations.carriers.dhl_parcel_de.client import DhlParcelDeClient
from integrations.carriers.easypost.client import EasyPostClient
from integrations.carriers.fedex.client import FedExClient
from integrations.carriers.purolator.client import PurolatorClient
from integrations.carriers.seventeentrack.client import SeventeenTrackClient
from integrations.carriers.shipengine.client import ShipEngineClient
from integrations.carriers.usps.client import UspsClient

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CLIENT_FIXTURES = HERE / "client_fixtures"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _token(token: str = "tok-1", expires_in: object = 3599) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", True), ("True", True), ("1", True), (True, True), ("", False), ("no", False)],
)
def test_the_sandbox_credential_reads_what_people_type(value, expected):
    assert is_sandbox({"sandbox": value}) is expected


# --- FedEx ----------------------------------------------------------------

FEDEX_TOKEN = "https://apis.fedex.com/oauth/token"
FEDEX_TRACK = "https://apis.fedex.com/track/v1/trackingnumbers"


@pytest.fixture
def fedex(make):
    return make(FedExClient, {"client_id": "fx-key", "client_secret": "fx-secret"})


@respx.mock
def test_fedex_buys_a_token_with_client_credentials_then_tracks(fedex):
    token = respx.post(FEDEX_TOKEN).mock(return_value=_token())
    track = respx.post(FEDEX_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("fedex/TrackingResponseJSON.json"))
    )

    result = fedex.track(" 794887075005 ")

    assert result.outcome == "found"
    assert result.tracking_number == "794887075005"
    form = dict(httpx.QueryParams(token.calls.last.request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "fx-key",
        "client_secret": "fx-secret",
    }
    asked = track.calls.last.request
    assert asked.headers["authorization"] == "Bearer tok-1"
    assert json.loads(asked.content) == {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": "794887075005"}}],
    }


@respx.mock
def test_fedex_token_is_fetched_once_and_reused(fedex):
    token = respx.post(FEDEX_TOKEN).mock(return_value=_token())
    respx.post(FEDEX_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("fedex/TrackingResponseJSON.json"))
    )

    fedex.track("794887075005")
    fedex.track("794887075005")

    assert token.call_count == 1


@respx.mock
def test_fedex_401_on_track_buys_one_fresh_token(fedex):
    respx.post(FEDEX_TOKEN).mock(side_effect=[_token("old"), _token("new")])
    track = respx.post(FEDEX_TRACK).mock(
        side_effect=[
            httpx.Response(401, json={"errors": [{"code": "NOT.AUTHORIZED.ERROR"}]}),
            httpx.Response(200, content=_fixture("fedex/TrackingResponseJSON.json")),
        ]
    )

    assert fedex.track("794887075005").outcome == "found"
    assert [c.request.headers["authorization"] for c in track.calls] == ["Bearer old", "Bearer new"]


@respx.mock
def test_fedex_refused_credentials_are_permanent_with_fedex_words(fedex):
    respx.post(FEDEX_TOKEN).mock(
        return_value=httpx.Response(
            401,
            json={
                "transactionId": "c2d4e6f8",
                "errors": [
                    {
                        "code": "NOT.AUTHORIZED.ERROR",
                        "message": "The given client credentials were not valid.",
                    }
                ],
            },
        )
    )
    with pytest.raises(PermanentError, match="client credentials were not valid"):
        fedex.track("794887075005")


@respx.mock
def test_fedex_unknown_number_is_a_not_found_result(fedex):
    respx.post(FEDEX_TOKEN).mock(return_value=_token())
    # The Track API's per-number error inside a 200, as FedEx documents it.
    respx.post(FEDEX_TRACK).mock(
        return_value=httpx.Response(
            200,
            json={
                "transactionId": "a1b2",
                "output": {
                    "completeTrackResults": [
                        {
                            "trackingNumber": "123456789012",
                            "trackResults": [
                                {
                                    "trackingNumberInfo": {"trackingNumber": "123456789012"},
                                    "error": {
                                        "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                                        "message": "Tracking number cannot be found.",
                                    },
                                }
                            ],
                        }
                    ]
                },
            },
        )
    )

    result = fedex.track("123456789012")

    assert result.outcome == "not_found"
    assert result.error_code == "TRACKING.TRACKINGNUMBER.NOTFOUND"


@respx.mock
def test_fedex_sandbox_credential_uses_the_test_environment(make):
    client = make(FedExClient, {"client_id": "k", "client_secret": "s", "sandbox": "yes"})
    token = respx.post("https://apis-sandbox.fedex.com/oauth/token").mock(return_value=_token())

    assert "Signed in" in client.check()
    assert token.called


# --- USPS -----------------------------------------------------------------

USPS_TOKEN = "https://apis.usps.com/oauth2/v3/token"
USPS_TRACK = "https://apis.usps.com/tracking/v3/tracking/9400109104250532908587"


@pytest.fixture
def usps(make):
    return make(UspsClient, {"client_id": "usps-key", "client_secret": "usps-secret"})


@respx.mock
def test_usps_buys_a_token_then_asks_for_the_detailed_tracking(usps):
    token = respx.post(USPS_TOKEN).mock(return_value=_token(expires_in=28799))
    track = respx.get(USPS_TRACK).mock(
        return_value=httpx.Response(200, content=_fixture("usps/usps__TrackingResponse.json"))
    )

    result = usps.track("9400109104250532908587")
    usps.track("9400109104250532908587")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert token.call_count == 1
    assert json.loads(token.calls.last.request.content) == {
        "grant_type": "client_credentials",
        "client_id": "usps-key",
        "client_secret": "usps-secret",
    }
    asked = track.calls.last.request
    assert asked.url.params["expand"] == "DETAIL"
    assert asked.headers["authorization"] == "Bearer tok-1"


@respx.mock
def test_usps_refused_client_is_permanent_with_the_oauth_description(usps):
    respx.post(USPS_TOKEN).mock(
        return_value=httpx.Response(401, content=_fixture("usps/usps__AuthErrorResponse.json"))
    )
    with pytest.raises(PermanentError, match="Client authentication failed"):
        usps.track("9400109104250532908587")


@respx.mock
def test_usps_error_body_is_an_error_result(usps):
    respx.post(USPS_TOKEN).mock(return_value=_token())
    respx.get(USPS_TRACK).mock(
        return_value=httpx.Response(400, content=_fixture("usps/usps__ErrorResponse.json"))
    )

    assert usps.track("9400109104250532908587").outcome == "error"


def test_usps_spends_its_hourly_quota_one_call_at_a_time():
    client = UspsClient({"client_id": "a", "client_secret": "b"}, account="test-cc1-usps")
    client.bucket.reset()
    try:
        with respx.mock:
            respx.post(USPS_TOKEN).mock(return_value=_token())
            client.tokens.forget()
            client.token()  # the one call the bucket holds: sent at once
            with pytest.raises(TransientError) as caught:
                client.token(fresh=True)
        # About a minute until the next call: 60 an hour.
        assert 50 < caught.value.retry_after <= 60
    finally:
        client.bucket.reset()
        client.tokens.forget()
        client.close()


# --- DHL (unified) ------------------------------------------------------------

DHL = "https://api-eu.dhl.com/track/shipments"


@respx.mock
def test_dhl_sends_the_api_key_header_and_reads_the_shipment(make):
    client = make(DhlClient, {"api_key": "dhl-key"})
    route = respx.get(DHL).mock(
        return_value=httpx.Response(200, content=_fixture("dhl/TrackingResponseJSON.json"))
    )

    result = client.track("7777777770")

    assert result.outcome == "found"
    assert result.tracking_number == "7777777770"
    sent = route.calls.last.request
    assert sent.headers["DHL-API-Key"] == "dhl-key"
    assert sent.url.params["trackingNumber"] == "7777777770"


@respx.mock
def test_dhl_problem_documents_are_not_found_results_and_a_bad_key_is_permanent(make):
    client = make(DhlClient, {"api_key": "dhl-key", "sandbox": "yes"})
    respx.get("https://api-test.dhl.com/track/shipments").mock(
        side_effect=[
            httpx.Response(404, content=_fixture("dhl/TrackingErrorResponseJSON.json")),
            httpx.Response(
                401, json={"status": 401, "title": "Unauthorized", "detail": "Invalid API key"}
            ),
        ]
    )

    assert client.track("8264715546").outcome == "not_found"
    with pytest.raises(PermanentError, match="Invalid API key"):
        client.track("8264715546")


# --- DHL Express (MyDHL API) ------------------------------------------------

MYDHL = "https://express.api.dhl.com/mydhlapi/tracking"


@respx.mock
def test_dhl_express_uses_basic_auth_and_asks_for_every_checkpoint(make):
    client = make(DhlExpressClient, {"username": "apiuser", "password": "apipass"})
    route = respx.get(MYDHL).mock(
        return_value=httpx.Response(
            200, content=_fixture("dhl_express/mydhl__TrackingResponse.json")
        )
    )

    result = client.track("9356579890")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("apiuser", "apipass")
    assert 28 <= len(sent.headers["Message-Reference"]) <= 36
    assert dict(sent.url.params) == {
        "shipmentTrackingNumber": "9356579890",
        "trackingView": "all-checkpoints",
        "levelOfDetail": "all",
    }


@respx.mock
def test_dhl_express_not_found_is_a_result_and_refused_login_is_permanent(make):
    client = make(DhlExpressClient, {"username": "u", "password": "p", "sandbox": "true"})
    respx.get("https://express.api.dhl.com/mydhlapi/test/tracking").mock(
        side_effect=[
            httpx.Response(404, content=_fixture("dhl_express/mydhl__ErrorResponse.json")),
            httpx.Response(
                401,
                json={"title": "Unauthorized", "status": "401", "detail": "Invalid Credentials"},
            ),
        ]
    )

    assert client.track("9356579890").outcome == "not_found"
    with pytest.raises(PermanentError, match="Invalid Credentials"):
        client.track("9356579890")


# --- DHL Parcel DE ----------------------------------------------------------

PARCEL_DE = "https://api-eu.dhl.com/parcel/de/tracking/v0/shipments"
PARCEL_DE_CREDENTIALS = {
    "api_key": "portal-key",
    "api_secret": "portal-secret",
    "appname": "zt98765",
    "password": 'p"&<w>',
}


def _piece_request(request: httpx.Request) -> dict[str, str]:
    xml = request.url.params["xml"].split("?>", 1)[1]
    return dict(ET.fromstring(xml).attrib)  # noqa: S314 - the request this test built


@respx.mock
def test_dhl_parcel_de_passes_the_gateway_and_the_tracking_login_inside_the_xml(make):
    client = make(DhlParcelDeClient, PARCEL_DE_CREDENTIALS)
    route = respx.get(PARCEL_DE).mock(
        return_value=httpx.Response(
            200, content=_fixture("dhl_parcel_de/dpdhl__TrackingResponse.xml")
        )
    )

    result = client.track("00340434161094042557")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("portal-key", "portal-secret")
    assert sent.headers["DHL-API-Key"] == "portal-key"
    # The password's quotes and angle brackets survive as attribute text.
    assert _piece_request(sent) == {
        "appname": "zt98765",
        "password": 'p"&<w>',
        "request": "d-get-piece-detail",
        "language-code": "en",
        "piece-code": "00340434161094042557",
    }


@respx.mock
def test_dhl_parcel_de_sandbox_uses_the_documented_test_login(make):
    client = make(DhlParcelDeClient, {**PARCEL_DE_CREDENTIALS, "sandbox": "yes"})
    route = respx.get("https://api-sandbox.dhl.com/parcel/de/tracking/v0/shipments").mock(
        return_value=httpx.Response(
            200, content=_fixture("dhl_parcel_de/dhl_parcel_de__TrackingErrorResponseXML.xml")
        )
    )

    assert client.track("00340434161094042557").outcome == "not_found"
    sent = _piece_request(route.calls.last.request)
    assert (sent["appname"], sent["password"]) == ("zt12345", "geheim")


@respx.mock
def test_dhl_parcel_de_failed_tracking_login_is_permanent_though_http_200(make):
    client = make(DhlParcelDeClient, PARCEL_DE_CREDENTIALS)
    respx.get(PARCEL_DE).mock(
        return_value=httpx.Response(200, content=_fixture("dhl_parcel_de/dpdhl__ErrorResponse.xml"))
    )
    with pytest.raises(PermanentError, match="Log-in failed"):
        client.track("00340434161094032954")


# --- Canada Post ------------------------------------------------------------

CANADAPOST = "https://soa-gw.canadapost.ca/vis/track/pin/7023210039414604/detail"


@respx.mock
def test_canadapost_asks_the_versioned_tracking_detail_with_basic_auth(make):
    client = make(CanadaPostClient, {"username": "cp-user", "password": "cp-pass"})
    route = respx.get(CANADAPOST).mock(
        return_value=httpx.Response(200, content=_fixture("canadapost/TrackingResponseXml.xml"))
    )

    result = client.track("7023210039414604")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("cp-user", "cp-pass")
    assert sent.headers["accept"] == "application/vnd.cpc.track-v2+xml"


@respx.mock
def test_canadapost_unknown_pin_is_not_found_and_refused_key_is_permanent(make):
    client = make(CanadaPostClient, {"username": "u", "password": "p", "sandbox": "yes"})
    respx.get("https://ct.soa-gw.canadapost.ca/vis/track/pin/1234/detail").mock(
        side_effect=[
            httpx.Response(404, content=_fixture("canadapost/UnknownTrackingNumberResponse.xml")),
            httpx.Response(401, content=_fixture("canadapost/AuthError.xml")),
        ]
    )

    assert client.track("1234").outcome == "not_found"
    with pytest.raises(PermanentError, match="AAA Authentication Failure"):
        client.track("1234")


# --- Purolator ----------------------------------------------------------------

PUROLATOR = "https://webservices.purolator.com/PWS/V1/Tracking/TrackingService.asmx"
PWS = "{http://purolator.com/pws/datatypes/v1}"


@respx.mock
def test_purolator_posts_a_soap_track_by_pin_request(make):
    client = make(PurolatorClient, {"key": "pk", "password": "pp", "user_token": "ut"})
    route = respx.post(PUROLATOR).mock(
        return_value=httpx.Response(200, content=_fixture("purolator/TRACKING_RESPONSE_XML.xml"))
    )

    result = client.track("M123")

    assert result.outcome == "found"
    assert result.tracking_number == "M123"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("pk", "pp")
    assert sent.headers["soapaction"] == '"http://purolator.com/pws/service/v1/TrackPackagesByPin"'
    envelope = ET.fromstring(sent.content)  # noqa: S314 - the request this test built
    assert envelope.findtext(f".//{PWS}PIN/{PWS}Value") == "M123"
    assert envelope.findtext(f".//{PWS}RequestContext/{PWS}Version") == "1.2"
    assert envelope.findtext(f".//{PWS}RequestContext/{PWS}UserToken") == "ut"


@respx.mock
def test_purolator_refused_key_is_permanent(make):
    client = make(PurolatorClient, {"key": "pk", "password": "wrong", "sandbox": "yes"})
    respx.post("https://devwebservices.purolator.com/PWS/V1/Tracking/TrackingService.asmx").mock(
        return_value=httpx.Response(401, text="<html><body>401 Unauthorized</body></html>")
    )
    with pytest.raises(PermanentError):
        client.track("M123")


# --- Canpar -------------------------------------------------------------------

CANPAR = (
    "https://canship.canpar.com/canshipws/services/"
    "CanparAddonsService.CanparAddonsServiceHttpSoap12Endpoint/"
)


@respx.mock
def test_canpar_posts_a_soap12_track_by_barcode_request(make):
    client = make(CanparClient, {})
    route = respx.post(CANPAR).mock(
        return_value=httpx.Response(200, content=_fixture("canpar/TrackingResponseXML.xml"))
    )

    result = client.track("D999999988030400000008")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert 'action="urn:trackByBarcode"' in sent.headers["content-type"]
    assert sent.headers["content-type"].startswith("application/soap+xml")
    envelope = ET.fromstring(sent.content)  # noqa: S314 - the request this test built
    barcode = envelope.findtext(".//{http://ws.dto.canshipws.canpar.com/xsd}barcode")
    assert barcode == "D999999988030400000008"


# --- Amazon Shipping ----------------------------------------------------------

LWA = "https://api.amazon.com/auth/o2/token"
AMAZON = "https://sellingpartnerapi-eu.amazon.com/shipping/v2/tracking"
AMAZON_CREDENTIALS = {
    "client_id": "amzn1.application-oa2-client.abc",
    "client_secret": "lwa-secret",
    "refresh_token": "Atzr|refresh",
    "region": "eu",
    "business_id": "AmazonShipping_UK",
}


@respx.mock
def test_amazon_shipping_buys_an_lwa_token_from_the_refresh_token_then_tracks(make):
    client = make(AmazonShippingClient, AMAZON_CREDENTIALS)
    token = respx.post(LWA).mock(return_value=_token("Atza|access"))
    track = respx.get(AMAZON).mock(
        return_value=httpx.Response(
            200, content=_fixture("amazon_shipping/TrackingResponseJSON.json")
        )
    )

    result = client.track("89108749065090")
    client.track("89108749065090")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert token.call_count == 1
    assert dict(httpx.QueryParams(token.calls.last.request.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|refresh",
        "client_id": "amzn1.application-oa2-client.abc",
        "client_secret": "lwa-secret",
    }
    sent = track.calls.last.request
    assert sent.headers["x-amz-access-token"] == "Atza|access"
    assert sent.headers["x-amzn-shipping-business-id"] == "AmazonShipping_UK"
    assert dict(sent.url.params) == {"trackingId": "89108749065090", "carrierId": "AMZN_US"}


@respx.mock
def test_amazon_shipping_retries_a_refused_token_once_then_gives_up(make):
    client = make(AmazonShippingClient, AMAZON_CREDENTIALS)
    token = respx.post(LWA).mock(side_effect=[_token("old"), _token("new")])
    denied = {
        "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]
    }
    respx.get(AMAZON).mock(return_value=httpx.Response(403, json=denied))

    with pytest.raises(PermanentError, match="Access to requested resource is denied"):
        client.track("89108749065090")
    assert token.call_count == 2


@respx.mock
def test_amazon_shipping_invalid_grant_is_permanent_and_unknown_ids_are_not_found(make):
    client = make(AmazonShippingClient, AMAZON_CREDENTIALS)
    respx.post(LWA).mock(
        side_effect=[
            httpx.Response(
                400,
                json={
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                },
            ),
            _token(),
        ]
    )
    respx.get(AMAZON).mock(
        return_value=httpx.Response(400, content=_fixture("amazon_shipping/ErrorResponseJSON.json"))
    )

    with pytest.raises(PermanentError, match="invalid grant parameter"):
        client.track("89108749065090")
    assert client.track("89108749065090").outcome == "not_found"


# --- 17TRACK ----------------------------------------------------------------

SEVENTEEN = "https://api.17track.net/track/v2.2"


def _seventeen(name: str) -> httpx.Response:
    return httpx.Response(200, content=(CLIENT_FIXTURES / "17track" / name).read_bytes())


@respx.mock
def test_17track_asks_for_track_info_with_the_17token_and_carrier_number(make):
    client = make(SeventeenTrackClient, {"api_key": "17-key"})
    info = respx.post(f"{SEVENTEEN}/gettrackinfo").mock(
        return_value=_seventeen("gettrackinfo_accepted.json")
    )

    result = client.track("RR123456789CN", carrier="chinapost")

    assert result.outcome == "found"
    assert result.status == "in_transit"
    assert len(result.events) == 2
    sent = info.calls.last.request
    assert sent.headers["17token"] == "17-key"
    assert json.loads(sent.content) == [{"number": "RR123456789CN", "carrier": 3011}]


@respx.mock
def test_17track_registers_a_number_it_does_not_track_yet(make):
    client = make(SeventeenTrackClient, {"api_key": "17-key"})
    respx.post(f"{SEVENTEEN}/gettrackinfo").mock(
        return_value=_seventeen("gettrackinfo_not_registered.json")
    )
    register = respx.post(f"{SEVENTEEN}/register").mock(
        return_value=_seventeen("register_accepted.json")
    )

    result = client.track("RR123456789CN")

    assert result.outcome == "found"
    assert result.status == "pending"
    assert json.loads(register.calls.last.request.content) == [{"number": "RR123456789CN"}]


@respx.mock
def test_17track_refused_key_is_permanent_though_http_200(make):
    client = make(SeventeenTrackClient, {"api_key": "wrong"})
    respx.post(f"{SEVENTEEN}/gettrackinfo").mock(
        return_value=httpx.Response(
            200,
            json={
                "code": -18010002,
                "data": {"errors": [{"code": -18010002, "message": "Invalid access key."}]},
            },
        )
    )
    with pytest.raises(PermanentError, match="security key is invalid"):
        client.track("RR123456789CN")


# --- EasyPost -----------------------------------------------------------------

EASYPOST = "https://api.easypost.com/v2/trackers"


@respx.mock
def test_easypost_creates_the_tracker_with_the_key_as_basic_username(make):
    client = make(EasyPostClient, {"api_key": "EZTK123"})
    route = respx.post(EASYPOST).mock(
        return_value=httpx.Response(201, content=_fixture("easypost/TrackingResponseJSON.json"))
    )

    result = client.track("EZ1000000001", carrier="usps")

    assert result.outcome == "found"
    assert result.tracking_number == "EZ1000000001"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == _basic("EZTK123", "")
    assert json.loads(sent.content) == {
        "tracker": {"tracking_code": "EZ1000000001", "carrier": "USPS"}
    }


@respx.mock
def test_easypost_untrackable_number_is_not_found_and_a_bad_key_is_permanent(make):
    client = make(EasyPostClient, {"api_key": "EZTK123"})
    respx.post(EASYPOST).mock(
        side_effect=[
            httpx.Response(422, content=_fixture("easypost/ErrorResponseJSON.json")),
            httpx.Response(
                401,
                json={
                    "error": {
                        "code": "APIKEY.INACTIVE",
                        "message": "This api key is no longer active.",
                        "errors": [],
                    }
                },
            ),
        ]
    )

    assert client.track("123").outcome == "not_found"
    with pytest.raises(PermanentError, match="no longer active"):
        client.track("123")


# --- ShipEngine -----------------------------------------------------------------

SHIPENGINE = "https://api.shipengine.com/v1/tracking"


@respx.mock
def test_shipengine_tracks_with_the_api_key_header_and_its_carrier_code(make):
    client = make(ShipEngineClient, {"api_key": "TEST_abc"})
    route = respx.get(SHIPENGINE).mock(
        return_value=httpx.Response(200, content=_fixture("shipengine/TrackingResponse.json"))
    )

    result = client.track("1Z999AA1234567890", carrier="ups")
    client.track("9400109104250532908587", carrier="usps")

    assert result.outcome == "found"
    assert result.status == "delivered"
    first, second = (c.request for c in route.calls)
    assert first.headers["API-Key"] == "TEST_abc"
    assert dict(first.url.params) == {"carrier_code": "ups", "tracking_number": "1Z999AA1234567890"}
    assert second.url.params["carrier_code"] == "stamps_com"


@respx.mock
def test_shipengine_errors_are_results_and_a_bad_key_is_permanent(make):
    client = make(ShipEngineClient, {"api_key": "TEST_abc"})
    unauthorized = {
        "request_id": "r1",
        "errors": [
            {
                "error_source": "shipengine",
                "error_type": "security",
                "error_code": "unauthorized",
                "message": "The API key is invalid. Please see https://www.shipengine.com/docs/auth",
            }
        ],
    }
    respx.get(SHIPENGINE).mock(
        side_effect=[
            httpx.Response(400, content=_fixture("shipengine/ErrorResponse.json")),
            httpx.Response(401, json=unauthorized),
        ]
    )

    assert client.track("bad", carrier="ups").outcome == "error"
    with pytest.raises(PermanentError, match="API key is invalid"):
        client.track("bad", carrier="ups")
