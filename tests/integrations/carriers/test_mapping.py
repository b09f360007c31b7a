"""Every fixture parses to the right outcome and status; timestamps and unknown codes are handled."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from integrations.carriers import registry
from integrations.carriers.payloads import MalformedPayload
from integrations.carriers.schema import Outcome

FIXTURES = Path(__file__).parent / "fixtures"

# (carrier, fixture, outcome, status). The UPS sample is UPS's documentation
# example: its statusCode 003 ("Shipment Ready for UPS") is what we map, not
# its placeholder "simplifiedTextDescription".
EXPECTED = [
    ("4px", "ErrorResponse.json", "error", None),
    ("4px", "NotFoundResponse.json", "not_found", None),
    ("4px", "TrackingResponse.json", "found", "delivered"),
    ("17track", "authentication_failure_response.json", "error", None),
    ("17track", "packages_response.json", "found", "in_transit"),
    ("17track", "packages_response_with_unknown_state.json", "found", "in_transit"),
    ("aftership", "CreateTrackingResult.json", "found", "pending"),
    ("aramex", "TrackingResponseXML.xml", "found", "delivered"),
    ("aftership", "GetTrackingResult.json", "found", "delivered"),
    ("aftership", "GetTrackingsResult.json", "found", "delivered"),
    ("aftership", "MarkAsCompletedResult.json", "found", "delivered"),
    ("aftership", "ReTrackResult.json", "found", "pending"),
    ("aftership", "UpdateTrackingResult.json", "found", "delivered"),
    ("amazon_shipping", "ErrorResponseJSON.json", "not_found", None),
    ("amazon_shipping", "TrackingResponseJSON.json", "found", "delivered"),
    ("aramex", "ErrorResponseXML.xml", "error", None),
    ("aramex", "TrackingNonExistentResponseXML.xml", "not_found", None),
    ("asendia", "ErrorResponse.json", "not_found", None),
    ("asendia", "TrackingResponse.json", "found", "delivered"),
    ("australiapost", "ErrorResponse.json", "error", None),
    ("australiapost", "TrackingErrorResponse.json", "not_found", None),
    ("australiapost", "TrackingResponse.json", "found", "in_transit"),
    ("bpost", "ErrorResponse.xml", "error", None),
    ("bpost", "TrackingResponse.xml", "found", "delivered"),
    ("cainiao", "ErrorResponse.json", "error", None),
    ("cainiao", "NotFoundResponse.json", "not_found", None),
    ("cainiao", "TrackingResponse.json", "found", "delivered"),
    ("canadapost", "AuthError.xml", "error", None),
    ("canadapost", "TrackingResponseXml.xml", "found", "delivered"),
    ("canadapost", "UnknownTrackingNumberResponse.xml", "not_found", None),
    ("canpar", "TrackingResponseXML.xml", "found", "delivered"),
    ("chinapost", "ErrorResponse.json", "error", None),
    ("chinapost", "NotFoundResponse.json", "not_found", None),
    ("chinapost", "TracePush.json", "found", "in_transit"),
    ("chinapost", "TrackingResponse.json", "found", "delivered"),
    ("chronopost", "ErrorResponse.xml", "error", None),
    ("chronopost", "TrackingResponse.xml", "found", "delivered"),
    ("colissimo", "ErrorResponse.json", "not_found", None),
    ("colissimo", "TrackingResponse.json", "found", "delivered"),
    ("dhl", "TrackingErrorResponseJSON.json", "not_found", None),
    ("dhl", "TrackingResponseJSON.json", "found", "info_received"),
    ("dhl_express", "dhl_express__AuthError.xml", "error", None),
    ("dhl_express", "dhl_express__IntransitTrackingResponseXML.xml", "found", "in_transit"),
    ("dhl_express", "dhl_express__TrackingResponseXML.xml", "found", "delivered"),
    ("dhl_express", "dhl_express__TrackingSingleNotFound.xml", "not_found", None),
    ("dhl_express", "mydhl__ErrorResponse.json", "not_found", None),
    ("dhl_express", "mydhl__TrackingResponse.json", "found", "delivered"),
    ("dhl_parcel_de", "dhl_parcel_de__TrackingErrorResponseXML.xml", "not_found", None),
    ("dhl_parcel_de", "dhl_parcel_de__TrackingResponseXML.xml", "found", "delivered"),
    ("dhl_parcel_de", "dpdhl__ErrorResponse.xml", "error", None),
    ("dhl_parcel_de", "dpdhl__HTMLErrorResponse.xml", "error", None),
    ("dhl_parcel_de", "dpdhl__TrackingResponse.xml", "found", "delivered"),
    ("dpd", "ErrorResponse.xml", "error", None),
    ("dpd", "TrackingResponse.xml", "found", "failed_attempt"),
    ("dpd_france", "ErrorResponseXML.xml", "error", None),
    ("dpd_france", "TrackingResponseXML.xml", "found", "delivered"),
    ("easypost", "ErrorResponseJSON.json", "not_found", None),
    ("easypost", "TrackingResponseJSON.json", "found", "info_received"),
    ("fedex", "TrackingAuthErrorXML.xml", "error", None),
    ("fedex", "TrackingErrorResponseXML.xml", "not_found", None),
    ("fedex", "TrackingResponseJSON.json", "found", "in_transit"),
    ("fedex", "TrackingResponseXML.xml", "found", "in_transit"),
    ("gls", "ErrorResponse.json", "not_found", None),
    ("gls", "TrackingResponse.json", "found", "in_transit"),
    ("hermes", "TrackingErrorResponse.json", "not_found", None),
    ("hermes", "TrackingResponse.json", "found", "delivered"),
    ("jtexpress", "ErrorResponse.json", "error", None),
    ("jtexpress", "MultiPieceResponse.json", "found", "in_transit"),
    ("jtexpress", "NotFoundResponse.json", "not_found", None),
    ("jtexpress", "TrackingResponse.json", "found", "delivered"),
    ("landmark", "DELIVERED_TRACKING_RESPONSE_XML.xml", "found", "delivered"),
    ("landmark", "DELIVERY_FAILED_TRACKING_RESPONSE_XML.xml", "found", "exception"),
    ("landmark", "EARLY_STAGE_TRACKING_RESPONSE_XML.xml", "found", "info_received"),
    ("landmark", "ERROR_RESPONSE_XML.xml", "error", None),
    ("landmark", "IN_TRANSIT_TRACKING_RESPONSE_XML.xml", "found", "in_transit"),
    ("landmark", "MIDNIGHT_TIME_SORTING_RESPONSE_XML.xml", "found", "delivered"),
    ("landmark", "MULTI_LEG_DELIVERED_TRACKING_RESPONSE_XML.xml", "found", "delivered"),
    ("landmark", "OUT_FOR_DELIVERY_TRACKING_RESPONSE_XML.xml", "found", "out_for_delivery"),
    ("landmark", "TO_BE_ROUTED_TRACKING_RESPONSE_XML.xml", "found", "info_received"),
    ("landmark", "TRACKING_RESPONSE_XML.xml", "found", "in_transit"),
    ("laposte", "ErrorResponse.json", "not_found", None),
    ("laposte", "TrackingResponse.json", "found", "delivered"),
    ("parcelone", "TrackingNoEventsResponseJSON.json", "found", "pending"),
    ("parcelone", "TrackingResponseJSON.json", "found", "delivered"),
    ("postnl", "CompleteStatusResponse.json", "found", "delivered"),
    ("postnl", "CurrentStatusResponse.json", "found", "out_for_delivery"),
    ("postnl", "ErrorResponse.json", "error", None),
    ("postnl", "MultiColloResponse.json", "found", "in_transit"),
    ("postnl", "NotFoundResponse.json", "not_found", None),
    ("purolator", "TRACKING_RESPONSE_XML.xml", "found", "in_transit"),
    ("royalmail", "AuthErrorResponse.json", "error", None),
    ("royalmail", "NotFoundResponse.json", "not_found", None),
    ("royalmail", "royalmail__TrackingErrorResponseJSON.json", "error", None),
    ("royalmail", "royalmail__TrackingResponseJSON.json", "found", "in_transit"),
    ("royalmail", "royalmail_v2__EventsTest_0.json", "found", "in_transit"),
    ("royalmail", "royalmail_v2__EventsTest_1.json", "found", "in_transit"),
    ("royalmail", "royalmail_v2__EventsTest_2.json", "found", "pending"),
    ("royalmail", "royalmail_v2__SummaryTest_0.json", "not_found", None),
    ("seko", "ErrorResponse.json", "error", None),
    ("seko", "TrackingResponse.json", "found", "delivered"),
    ("seko", "TrackingResponse2.json", "found", "info_received"),
    ("sendle", "ErrorResponse.json", "not_found", None),
    ("sendle", "TrackingResponse.json", "found", "delivered"),
    ("sf_express", "TrackingResponseJSON.json", "found", "delivered"),
    ("shipengine", "ErrorResponse.json", "error", None),
    ("shipengine", "TrackingResponse.json", "found", "delivered"),
    ("spring", "TrackingErrorResponse.json", "not_found", None),
    ("spring", "TrackingResponse.json", "found", "delivered"),
    ("tnt", "TRACKING_ERROR_RESPONSE.xml", "error", None),
    ("tnt", "TRACKING_RESPONSE.xml", "found", "delivered"),
    ("ups", "AuthError.json", "error", None),
    ("ups", "InvalidTrackingNumberResponseJSON.json", "not_found", None),
    ("ups", "TrackingNumberNotFoundResponseJSON.json", "not_found", None),
    ("ups", "TrackingResponseJSON.json", "found", "info_received"),
    ("usps", "usps__AuthErrorResponse.json", "error", None),
    ("usps", "usps__ErrorResponse.json", "error", None),
    ("usps", "usps__TrackingResponse.json", "found", "delivered"),
    ("usps", "usps_wt__TRACKING_RESPONSE.xml", "found", "in_transit"),
    ("yanwen", "TrackingResponseJSON.json", "found", "in_transit"),
    ("yunexpress", "ErrorResponseXML.json", "error", None),
    ("yunexpress", "TrackingResponseXML.json", "found", "info_received"),
]


def _raw(carrier: str, name: str) -> bytes:
    return (FIXTURES / carrier / name).read_bytes()


@pytest.mark.parametrize(("carrier", "name", "outcome", "status"), EXPECTED)
def test_fixture_parses_to_expected_outcome_and_status(carrier, name, outcome, status):
    result = registry.parse(carrier, _raw(carrier, name))

    assert result.outcome == outcome
    assert result.carrier == registry.get(carrier).code
    if outcome == Outcome.FOUND:
        assert result.status == status
    else:
        assert result.message, "a not-found or error result must say why"
        assert result.events == []


def test_every_fixture_file_is_in_the_expectation_table():
    # Pushed bodies (webhooks/) are read by the push tests, not by a carrier's mapping.
    on_disk = {
        (p.parent.name, p.name)
        for p in FIXTURES.glob("*/*")
        if p.name != "PROVENANCE.md" and p.parent.name != "webhooks"
    }
    assert on_disk == {(c, n) for c, n, _, _ in EXPECTED}


def test_every_fixture_folder_has_a_provenance_note():
    for folder in FIXTURES.iterdir():
        assert (folder / "PROVENANCE.md").is_file(), folder.name


def test_found_results_have_aware_timestamps_newest_first():
    for carrier, name, outcome, _ in EXPECTED:
        if outcome != Outcome.FOUND:
            continue
        events = registry.parse(carrier, _raw(carrier, name)).events
        times = [e.occurred_at for e in events if e.occurred_at]
        assert all(t.tzinfo is not None for t in times), (carrier, name)
        if carrier != "landmark":  # Landmark is ordered by the carrier, see its mapping
            assert times == sorted(times, reverse=True), (carrier, name)


def test_usps_event_keeps_the_instant_and_shows_the_local_offset():
    result = registry.parse("usps", _raw("usps", "usps__TrackingResponse.json"))
    delivered = result.events[0]

    assert delivered.code == "01"
    assert delivered.occurred_at.utcoffset() == timedelta(hours=-5)
    assert delivered.occurred_at.astimezone(UTC) == datetime(2024, 11, 22, 18, 58, 40, tzinfo=UTC)


def test_canada_post_zone_abbreviation_becomes_an_offset():
    result = registry.parse("canadapost", _raw("canadapost", "TrackingResponseXml.xml"))
    out_for_delivery = next(e for e in result.events if e.code == "0174")

    assert out_for_delivery.occurred_at.isoformat() == "2011-02-03T08:27:43-05:00"


def test_dhl_parcel_local_time_follows_german_summer_time():
    raw = _raw("dhl_parcel_de", "dhl_parcel_de__TrackingResponseXML.xml").replace(
        b'event-timestamp="18.03.2016 10:02"', b'event-timestamp="18.07.2016 10:02"'
    )
    result = registry.parse("dhl_parcel_de", raw)

    assert result.events[0].occurred_at.isoformat() == "2016-07-18T10:02:00+02:00"
    assert result.events[-1].occurred_at.isoformat() == "2016-03-17T11:44:00+01:00"


def test_ups_local_time_without_offset_uses_the_scan_state_zone():
    doc = json.loads(_raw("ups", "TrackingResponseJSON.json"))
    activity = doc["trackResponse"]["shipment"][0]["package"][0]["activity"][0]
    activity["location"]["address"]["stateProvince"] = "CA"
    result = registry.parse("ups", json.dumps(doc))

    assert result.events[0].occurred_at.isoformat() == "2021-02-10T07:13:56-08:00"


def test_ups_gmt_offset_wins_over_the_location_zone():
    doc = json.loads(_raw("ups", "TrackingResponseJSON.json"))
    activity = doc["trackResponse"]["shipment"][0]["package"][0]["activity"][0]
    activity["gmtOffset"] = "+01:00"
    result = registry.parse("ups", json.dumps(doc))

    assert result.events[0].occurred_at.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("day", "time"),
    [("20211399", "071356"), ("2021021", "071356"), ("20210210", "7:13:5"), ("", "")],
)
def test_ups_unreadable_scan_time_is_kept_without_a_time(day, time):
    doc = json.loads(_raw("ups", "TrackingResponseJSON.json"))
    activity = doc["trackResponse"]["shipment"][0]["package"][0]["activity"][0]
    activity["date"], activity["time"] = day, time
    result = registry.parse("ups", json.dumps(doc))

    assert result.events[0].occurred_at is None
    assert result.events[0].code == "003"


def test_unknown_code_is_kept_raw_and_flagged_unmapped():
    doc = json.loads(_raw("ups", "TrackingResponseJSON.json"))
    status = doc["trackResponse"]["shipment"][0]["package"][0]["activity"][0]["status"]
    status["statusCode"] = "999"
    result = registry.parse("ups", json.dumps(doc))
    event = result.events[0]

    assert event.code == "999"
    assert event.is_mapped is False
    assert event.status == "exception"  # the activity type X, never the description text
    assert result.unmapped_codes == ["999"]
    assert event.raw["status"]["statusCode"] == "999"


def test_unmapped_event_does_not_decide_the_shipment_status():
    doc = json.loads(_raw("usps", "usps__TrackingResponse.json"))
    doc["trackingEvents"][0]["eventCode"] = "ZZ"
    doc["statusCategory"] = "Surprise"
    result = registry.parse("usps", json.dumps(doc))

    assert result.events[0].is_mapped is False
    assert result.status == "out_for_delivery"


def test_known_codes_set_substatus():
    doc = json.loads(_raw("royalmail", "royalmail__TrackingResponseJSON.json"))
    doc["mailPieces"]["events"][0]["eventCode"] = "EVKDN"
    result = registry.parse("royalmail", json.dumps(doc))

    assert (result.status, result.substatus) == ("delivered", "delivered_to_neighbour")


def test_estimated_delivery_is_read_as_a_date():
    result = registry.parse("royalmail", _raw("royalmail", "royalmail__TrackingResponseJSON.json"))
    assert result.estimated_delivery == date(2017, 2, 20)


@pytest.mark.parametrize("raw", [b"", b"not json", b"<unclosed", b"[]", b"42"])
def test_garbage_raises_malformed_payload_not_a_crash(raw):
    with pytest.raises(MalformedPayload):
        registry.parse("ups", raw)


def test_unknown_carrier_is_refused():
    with pytest.raises(registry.UnknownCarrier):
        registry.parse("pigeon", b"{}")


def test_html_error_page_is_an_error_result():
    result = registry.parse("ups", b"<!DOCTYPE html><html><title>502</title></html>")
    assert result.outcome == Outcome.ERROR


def test_not_found_json_output_has_no_status():
    data = registry.parse("ups", _raw("ups", "TrackingNumberNotFoundResponseJSON.json")).as_dict()
    assert data["outcome"] == "not_found"
    assert data["status"] is None
    assert data["error"]["code"] == "TW0001"
