"""Australia Post, Sendle, Aramex, SF Express, YunExpress, Yanwen, J&T, Cainiao, 4PX and
SEKO tracking clients against the carriers' documented HTTP exchanges, replayed with respx."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from integrations.carriers.aramex.client import AramexClient
from integrations.carriers.australiapost.client import AustraliaPostClient
from integrations.carriers.cainiao.client import CainiaoClient, data_digest
from integrations.carriers.client import PermanentError, TransientError
from integrations.carriers.fourpx.client import FourPxClient, sign
from integrations.carriers.jtexpress.client import JtExpressClient
from integrations.carriers.jtexpress.client import digest as jt_digest
from integrations.carriers.seko.client import SekoClient
from integrations.carriers.sendle.client import SendleClient
from integrations.carriers.sf_express.client import SfExpressClient
from integrations.carriers.sf_express.client import digest as sf_digest
from integrations.carriers.yanwen.client import YanwenClient
from integrations.carriers.yunexpress.client import YunExpressClient

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _basic(user: str, password: str, sep: str = ":") -> str:
    return "Basic " + base64.b64encode(f"{user}{sep}{password}".encode()).decode()


# Australia Post ----------------------------------------------------------------

AUSPOST = "https://digitalapi.auspost.com.au/shipping/v1/track"
AUSPOST_CREDENTIALS = {"api_key": "ap-key", "password": "ap-pass", "account_number": "0007654321"}


@respx.mock
def test_australiapost_tracks_with_basic_auth_and_account_number(make):
    route = respx.get(AUSPOST).mock(
        return_value=httpx.Response(200, content=_fixture("australiapost/TrackingResponse.json"))
    )

    result = make(AustraliaPostClient, AUSPOST_CREDENTIALS).track("ET123456789AU")

    assert result.outcome == "found"
    assert result.tracking_number == "ET123456789AU"
    sent = route.calls.last.request
    assert sent.url.params["tracking_ids"] == "ET123456789AU"
    assert sent.headers["authorization"] == _basic("ap-key", "ap-pass")
    assert sent.headers["account-number"] == "0007654321"


@respx.mock
def test_australiapost_sandbox_uses_the_test_environment(make):
    route = respx.get("https://digitalapi.auspost.com.au/test/shipping/v1/track").mock(
        return_value=httpx.Response(200, content=_fixture("australiapost/TrackingResponse.json"))
    )
    make(AustraliaPostClient, {**AUSPOST_CREDENTIALS, "sandbox": "yes"}).track("ET123456789AU")
    assert route.called


@respx.mock
def test_australiapost_unknown_ids_and_bad_requests_are_results(make):
    client = make(AustraliaPostClient, AUSPOST_CREDENTIALS)
    respx.get(AUSPOST).mock(
        side_effect=[
            httpx.Response(200, content=_fixture("australiapost/TrackingErrorResponse.json")),
            httpx.Response(400, content=_fixture("australiapost/ErrorResponse.json")),
        ]
    )
    assert client.track("7XX1000").outcome == "not_found"
    assert client.track("7XX1000").outcome == "error"


@respx.mock
def test_australiapost_refused_credentials_are_permanent(make):
    body = {"errors": [{"code": "API_001", "name": "UNAUTHORISED", "message": "Invalid API key"}]}
    respx.get(AUSPOST).mock(return_value=httpx.Response(401, json=body))
    with pytest.raises(PermanentError, match="Invalid API key"):
        make(AustraliaPostClient, AUSPOST_CREDENTIALS).track("ET123456789AU")


# Sendle --------------------------------------------------------------------------


@respx.mock
def test_sendle_tracks_by_reference_with_basic_auth(make):
    route = respx.get("https://api.sendle.com/api/tracking/S3ND73").mock(
        return_value=httpx.Response(200, content=_fixture("sendle/TrackingResponse.json"))
    )

    result = make(SendleClient, {"sendle_id": "acme", "api_key": "sk"}).track("S3ND73")

    assert result.outcome == "found"
    assert result.status == "delivered"
    assert route.calls.last.request.headers["authorization"] == _basic("acme", "sk")


@respx.mock
def test_sendle_unknown_reference_is_not_found_and_bad_key_is_permanent(make):
    client = make(SendleClient, {"sendle_id": "acme", "api_key": "sk", "sandbox": "yes"})
    respx.get("https://sandbox.sendle.com/api/tracking/NOPE").mock(
        return_value=httpx.Response(404, content=_fixture("sendle/ErrorResponse.json"))
    )
    respx.get("https://sandbox.sendle.com/api/ping").mock(
        return_value=httpx.Response(
            401,
            json={
                "error": "unauthorised",
                "error_description": "The authorisation details are not valid.",
            },
        )
    )
    assert client.track("NOPE").outcome == "not_found"
    with pytest.raises(PermanentError, match="authorisation details are not valid"):
        client.check()


@respx.mock
def test_sendle_check_pings(make):
    respx.get("https://api.sendle.com/api/ping").mock(
        return_value=httpx.Response(200, json={"ping": "pong"})
    )
    assert "Sendle" in make(SendleClient, {"sendle_id": "acme", "api_key": "sk"}).check()


# Aramex --------------------------------------------------------------------------

ARAMEX = "https://ws.aramex.net/ShippingAPI.V2/Tracking/Service_1_0.svc"
ARAMEX_CREDENTIALS = {
    "username": "api@example.com",
    "password": "p<w>&d",
    "account_number": "20016",
    "account_pin": "331421",
    "account_entity": "AMM",
    "account_country_code": "JO",
}


@respx.mock
def test_aramex_posts_a_soap_track_shipments_with_client_info(make):
    route = respx.post(ARAMEX).mock(
        return_value=httpx.Response(200, content=_fixture("aramex/TrackingResponseXML.xml"))
    )

    result = make(AramexClient, ARAMEX_CREDENTIALS).track("44794308861")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["soapaction"] == (
        "http://ws.aramex.net/ShippingAPI/v1/Service_1_0/TrackShipments"
    )
    assert sent.headers["content-type"].startswith("text/xml")
    body = sent.content.decode()
    assert "<v1:UserName>api@example.com</v1:UserName>" in body
    assert "<v1:Password>p&lt;w&gt;&amp;d</v1:Password>" in body  # escaped, not broken XML
    assert "<v1:AccountPin>331421</v1:AccountPin>" in body
    assert "<v1:Version>v1.0</v1:Version>" in body
    assert "<arr:string>44794308861</arr:string>" in body


@respx.mock
def test_aramex_unknown_waybill_is_not_found(make):
    respx.post("https://ws.sbx.aramex.net/ShippingAPI.V2/Tracking/Service_1_0.svc").mock(
        return_value=httpx.Response(
            200, content=_fixture("aramex/TrackingNonExistentResponseXML.xml")
        )
    )
    result = make(AramexClient, {**ARAMEX_CREDENTIALS, "sandbox": "true"}).track(
        "1Z12345E6205277936"
    )
    assert result.outcome == "not_found"


@respx.mock
def test_aramex_client_info_notification_is_permanent(make):
    respx.post(ARAMEX).mock(
        return_value=httpx.Response(200, content=_fixture("aramex/ErrorResponseXML.xml"))
    )
    with pytest.raises(PermanentError, match="Invalid username or password"):
        make(AramexClient, ARAMEX_CREDENTIALS).track("44794308861")


def test_aramex_without_account_details_is_permanent(make):
    with pytest.raises(PermanentError, match="account_pin"):
        make(AramexClient, {**ARAMEX_CREDENTIALS, "account_pin": ""}).track("1")


# SF Express ----------------------------------------------------------------------

SF = "https://sfapi.sf-express.com/std/service"
SF_CREDENTIALS = {"partner_id": "Y7hHmkqf", "check_word": "fc34c561a34f"}


def _sf_envelope(code: str = "A1000", data: str | None = None, message: str = "") -> dict:
    return {
        "apiResultCode": code,
        "apiErrorMsg": message,
        "apiResponseID": "0001",
        "apiResultData": data,
    }


def test_sf_digest_is_base64_md5_of_the_url_encoded_message_timestamp_and_check_word():
    msg = (
        '{"language":"1","trackingType":"1","trackingNumber":["SF1011603494291"],"methodType":"1"}'
    )
    # Computed outside Python: URI-encode, MD5, Base64.
    assert sf_digest(msg, "1700000000000", "fc34c561a34f") == "E3xBTBtjIiqOVbbnuHwXpA=="


@respx.mock
def test_sf_express_posts_a_signed_route_query_and_reads_the_wrapped_answer(make):
    inner = _fixture("sf_express/TrackingResponseJSON.json").decode()
    route = respx.post(SF).mock(return_value=httpx.Response(200, json=_sf_envelope(data=inner)))

    result = make(SfExpressClient, SF_CREDENTIALS).track("SF1011603494291")

    assert result.outcome == "found"
    assert result.status == "delivered"
    form = _form(route.calls.last.request)
    assert form["partnerID"] == "Y7hHmkqf"
    assert form["serviceCode"] == "EXP_RECE_SEARCH_ROUTES"
    assert json.loads(form["msgData"])["trackingNumber"] == ["SF1011603494291"]
    assert form["msgDigest"] == sf_digest(form["msgData"], form["timestamp"], "fc34c561a34f")
    assert form["requestID"]


@respx.mock
def test_sf_express_waybill_without_routes_is_not_found(make):
    inner = json.dumps(
        {
            "success": True,
            "errorCode": "S0000",
            "msgData": {"routeResps": [{"mailNo": "SF0000", "routes": []}]},
        }
    )
    respx.post(SF).mock(return_value=httpx.Response(200, json=_sf_envelope(data=inner)))
    assert make(SfExpressClient, SF_CREDENTIALS).track("SF0000").outcome == "not_found"


@respx.mock
@pytest.mark.parametrize(
    ("code", "raised"),
    [("A1006", PermanentError), ("A1004", PermanentError), ("A1005", TransientError)],
)
def test_sf_express_gateway_refusals_and_flow_control(make, code, raised):
    respx.post(SF).mock(
        return_value=httpx.Response(200, json=_sf_envelope(code, None, "数字签名无效"))
    )
    with pytest.raises(raised, match=code):
        make(SfExpressClient, SF_CREDENTIALS).track("SF1011603494291")


# YunExpress ----------------------------------------------------------------------

YUN = "http://oms.api.yunexpress.com/api"


@respx.mock
def test_yunexpress_authorizes_with_customer_code_ampersand_secret(make):
    route = respx.get(f"{YUN}/Tracking/GetTrackInfo").mock(
        return_value=httpx.Response(200, content=_fixture("yunexpress/TrackingResponseXML.json"))
    )

    result = make(YunExpressClient, {"customer_code": "C88888", "api_secret": "JCJaDKLJJ"}).track(
        "YT1432418888800049"
    )

    assert result.outcome == "found"
    assert result.tracking_number == "YT1432418888800049"
    sent = route.calls.last.request
    assert sent.url.params["OrderNumber"] == "YT1432418888800049"
    assert sent.headers["authorization"] == _basic("C88888", "JCJaDKLJJ", sep="&")


@respx.mock
def test_yunexpress_not_found_error_and_refused_credentials(make):
    client = make(YunExpressClient, {"customer_code": "C1", "api_secret": "s", "sandbox": "yes"})
    respx.get("http://omsapi.uat.yunexpress.com/api/Tracking/GetTrackInfo").mock(
        side_effect=[
            httpx.Response(200, json={"ResultCode": "1001", "ResultDesc": "无数据", "Item": None}),
            httpx.Response(404, content=_fixture("yunexpress/ErrorResponseXML.json")),
            httpx.Response(
                401, json={"Message": "Authorization has been denied for this request."}
            ),
        ]
    )
    assert client.track("YT0").outcome == "not_found"
    assert client.track("YT0").outcome == "error"
    with pytest.raises(PermanentError):
        client.track("YT0")


@respx.mock
def test_yunexpress_check_reads_the_country_list(make):
    respx.get(f"{YUN}/Common/GetCountry").mock(
        return_value=httpx.Response(200, json={"Code": "0000", "Message": "", "Items": []})
    )
    assert (
        "YunExpress" in make(YunExpressClient, {"customer_code": "C1", "api_secret": "s"}).check()
    )


# Yanwen --------------------------------------------------------------------------


@respx.mock
def test_yanwen_sends_the_key_as_authorization(make):
    route = respx.get("http://api.track.yw56.com.cn/api/tracking").mock(
        return_value=httpx.Response(200, content=_fixture("yanwen/TrackingResponseJSON.json"))
    )

    result = make(YanwenClient, {"api_key": "yw-key"}).track("00340434281410767138")

    assert result.outcome == "found"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "yw-key"
    assert sent.url.params["nums"] == "00340434281410767138"


@respx.mock
def test_yanwen_empty_result_is_not_found_and_refusal_is_permanent(make):
    client = make(YanwenClient, {"api_key": "yw-key"})
    respx.get("http://api.track.yw56.com.cn/api/tracking").mock(
        side_effect=[
            httpx.Response(200, json={"code": 0, "message": "success", "result": []}),
            httpx.Response(401, json={"code": 401, "message": "unauthorized"}),
        ]
    )
    assert client.track("UNKNOWN").outcome == "not_found"
    with pytest.raises(PermanentError):
        client.track("UNKNOWN")


# J&T Express ---------------------------------------------------------------------

JT = "https://ylopenapi.jtexpress.my/webopenplatformapi/api/logistics/trace"
# The Malaysian platform's published demo account.
JT_CREDENTIALS = {
    "api_account": "640826271705595946",
    "private_key": "8e88c8477d4e4939859c560192fcafbc",
}


def test_jt_digest_is_base64_md5_of_biz_content_and_private_key():
    # Computed outside Python with the demo private key.
    assert (
        jt_digest('{"billCodes":"JT2099306666983"}', "8e88c8477d4e4939859c560192fcafbc")
        == "L22YXGfQPdEFjtMgoU3Raw=="
    )


@respx.mock
def test_jtexpress_posts_biz_content_with_signed_headers(make):
    route = respx.post(JT).mock(
        return_value=httpx.Response(200, content=_fixture("jtexpress/TrackingResponse.json"))
    )

    result = make(JtExpressClient, JT_CREDENTIALS).track("JT2099306666983")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert _form(sent) == {"bizContent": '{"billCodes":"JT2099306666983"}'}
    assert sent.headers["apiaccount"] == "640826271705595946"
    assert sent.headers["digest"] == "L22YXGfQPdEFjtMgoU3Raw=="
    assert len(sent.headers["timestamp"]) == 13


@respx.mock
def test_jtexpress_unknown_waybill_is_not_found_and_bad_signature_is_permanent(make):
    client = make(JtExpressClient, {**JT_CREDENTIALS, "sandbox": "yes"})
    respx.post("https://demoopenapi.jtexpress.my/webopenplatformapi/api/logistics/trace").mock(
        side_effect=[
            httpx.Response(200, content=_fixture("jtexpress/NotFoundResponse.json")),
            httpx.Response(200, content=_fixture("jtexpress/ErrorResponse.json")),
        ]
    )
    assert client.track("JT0000000000000").outcome == "not_found"
    with pytest.raises(PermanentError, match="signature verification failed"):
        client.track("JT0000000000000")


@respx.mock
def test_jtexpress_other_countries_use_their_own_platform(make):
    route = respx.post(
        "https://openapi.jtexpress.com.cn/webopenplatformapi/api/logistics/trace"
    ).mock(return_value=httpx.Response(200, content=_fixture("jtexpress/TrackingResponse.json")))
    make(
        JtExpressClient, {**JT_CREDENTIALS, "api_host": "https://openapi.jtexpress.com.cn/"}
    ).track("JT2099306666983")
    assert route.called


# Cainiao -------------------------------------------------------------------------

CAINIAO = "https://link.cainiao.com/gateway/link.do"


def test_cainiao_data_digest_is_base64_md5_of_content_and_secret():
    content = '{"mailNo":"LP00612345678901","locale":"en_US"}'
    assert data_digest(content, "secret-1") == "vSlDsAh3L9lwZr1MRiS8TQ=="


@respx.mock
def test_cainiao_posts_a_signed_link_message(make):
    route = respx.post(CAINIAO).mock(
        return_value=httpx.Response(200, content=_fixture("cainiao/TrackingResponse.json"))
    )

    result = make(CainiaoClient, {"logistic_provider_id": "rc-1", "secret_key": "secret-1"}).track(
        "LP00612345678901"
    )

    assert result.outcome == "found"
    assert result.status == "delivered"
    form = _form(route.calls.last.request)
    assert form["msg_type"] == "CN_OVERSEA_LOGISTICS_INQUIRY_TRACKING"
    assert form["logistic_provider_id"] == "rc-1"
    assert form["logistics_interface"] == '{"mailNo":"LP00612345678901","locale":"en_US"}'
    assert form["data_digest"] == "vSlDsAh3L9lwZr1MRiS8TQ=="
    assert form["to_code"] == "CNL_EU"


@respx.mock
def test_cainiao_not_found_and_failures_are_results(make):
    client = make(
        CainiaoClient, {"logistic_provider_id": "rc-1", "secret_key": "s", "sandbox": "1"}
    )
    respx.post("https://prelink.cainiao.com/gateway/link.do").mock(
        side_effect=[
            httpx.Response(200, content=_fixture("cainiao/NotFoundResponse.json")),
            httpx.Response(200, content=_fixture("cainiao/ErrorResponse.json")),
        ]
    )
    assert client.track("LP00000000000000").outcome == "not_found"
    assert client.track("LP00000000000000").outcome == "error"


# 4PX -----------------------------------------------------------------------------

FOURPX = "https://open.4px.com/router/api/service"


def test_fourpx_sign_is_md5_hex_of_public_params_body_and_secret():
    params = {
        "app_key": "k-1",
        "format": "json",
        "method": "tr.order.tracking.get",
        "timestamp": "1700000000000",
        "v": "1.0.0",
    }
    body = '{"deliveryOrderNo":"4PX3001518625089CN"}'
    # Computed outside Python.
    assert sign(params, body, "s-1") == "918a822c169d2fd0e529ae7889964759"


@respx.mock
def test_fourpx_posts_the_order_number_with_signed_query(make):
    route = respx.post(FOURPX).mock(
        return_value=httpx.Response(200, content=_fixture("4px/TrackingResponse.json"))
    )

    result = make(FourPxClient, {"app_key": "k-1", "app_secret": "s-1"}).track("4PX3001518625089CN")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    query = dict(sent.url.params)
    assert query["method"] == "tr.order.tracking.get"
    assert query["app_key"] == "k-1" and query["v"] == "1.0.0" and query["format"] == "json"
    assert sent.content == b'{"deliveryOrderNo":"4PX3001518625089CN"}'
    assert query["sign"] == sign(query, sent.content.decode(), "s-1")


@respx.mock
def test_fourpx_unknown_number_is_not_found_and_sign_error_is_permanent(make):
    client = make(FourPxClient, {"app_key": "k-1", "app_secret": "s-1"})
    respx.post(FOURPX).mock(
        side_effect=[
            httpx.Response(200, content=_fixture("4px/NotFoundResponse.json")),
            httpx.Response(200, content=_fixture("4px/ErrorResponse.json")),
        ]
    )
    assert client.track("4PX0000000000000CN").outcome == "not_found"
    with pytest.raises(PermanentError, match="sign error"):
        client.track("4PX0000000000000CN")


# SEKO ----------------------------------------------------------------------------

SEKO = "https://api.omniparcel.com/labels/statusv2"


@respx.mock
def test_seko_posts_the_consignment_list_with_the_access_key(make):
    route = respx.post(SEKO).mock(
        return_value=httpx.Response(200, content=_fixture("seko/TrackingResponse.json"))
    )

    result = make(SekoClient, {"access_key": "omni-key"}).track("999880931315")

    assert result.outcome == "found"
    assert result.status == "delivered"
    sent = route.calls.last.request
    assert sent.headers["access_key"] == "omni-key"
    assert json.loads(sent.content) == ["999880931315"]


@respx.mock
def test_seko_errors_are_results_and_a_refused_key_is_permanent(make):
    client = make(SekoClient, {"access_key": "omni-key", "sandbox": "yes"})
    respx.post("https://staging.omniparcel.com/labels/statusv2").mock(
        side_effect=[
            httpx.Response(200, json=[]),
            httpx.Response(400, content=_fixture("seko/ErrorResponse.json")),
            httpx.Response(401, json={"Message": "Authorization has been denied"}),
        ]
    )
    assert client.track("DG0").outcome == "not_found"
    assert client.track("DG0").outcome == "error"
    with pytest.raises(PermanentError):
        client.track("DG0")


# All of them ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        AustraliaPostClient,
        SendleClient,
        AramexClient,
        SfExpressClient,
        YunExpressClient,
        YanwenClient,
        JtExpressClient,
        CainiaoClient,
        FourPxClient,
        SekoClient,
    ],
)
def test_a_connection_without_credentials_is_permanent_and_calls_nothing(make, cls):
    with respx.mock(assert_all_called=False) as mock:
        with pytest.raises(PermanentError):
            make(cls, {}).track("ANY")
        assert not mock.calls
