"""J&T Express, Cainiao, China Post / EMS, 4PX and PostNL: codes, times, pieces, detection."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from integrations.carriers import registry
from integrations.carriers.detect import detect
from integrations.carriers.postnl.mapping import EVENT_STATUS, NOTES, REFINED, STATUSES

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]


def _doc(carrier: str, name: str) -> dict:
    return json.loads((FIXTURES / carrier / name).read_bytes())


def _parse(carrier: str, doc: dict):
    return registry.parse(carrier, json.dumps(doc, ensure_ascii=False))


# --- J&T Express -------------------------------------------------------------


def test_jt_scan_time_without_zone_is_platform_utc_plus_8():
    events = _parse("jtexpress", _doc("jtexpress", "TrackingResponse.json")).events
    pick_up = events[-1]

    assert pick_up.code == "10"
    assert pick_up.occurred_at.isoformat() == "2024-05-02T10:05:00+08:00"


def test_jt_scan_time_follows_the_scans_own_time_zone():
    doc = _doc("jtexpress", "TrackingResponse.json")
    doc["data"][0]["details"][0]["timeZone"] = "GMT+07:00"  # an Indonesian network
    delivered = _parse("jtexpress", doc).events[0]

    assert delivered.occurred_at.astimezone(UTC) == datetime(2024, 5, 3, 7, 21, 7, tzinfo=UTC)


def test_jt_collected_scan_is_kept_but_not_guessed():
    doc = _doc("jtexpress", "TrackingResponse.json")
    doc["data"][0]["details"][0]["scanTypeCode"] = "200"
    result = _parse("jtexpress", doc)

    assert result.unmapped_codes == ["200"]
    assert result.status == "out_for_delivery"  # the newest scan we do understand


@pytest.mark.parametrize(
    ("code", "status", "substatus"),
    [
        ("172", "exception", "returning_to_sender"),
        ("173", "exception", "returned_to_sender"),
        ("301", "exception", "lost"),
        ("303", "exception", "refused"),
    ],
)
def test_jt_terminal_scan_codes(code, status, substatus):
    doc = _doc("jtexpress", "TrackingResponse.json")
    doc["data"][0]["details"][0]["scanTypeCode"] = code
    result = _parse("jtexpress", doc)

    assert (result.status, result.substatus) == (status, substatus)


def test_jt_chinese_platform_scan_type_is_used_when_there_is_no_numeric_code():
    doc = _doc("jtexpress", "TrackingResponse.json")
    scan = doc["data"][0]["details"][0]
    del scan["scanTypeCode"]
    scan["scanType"] = "快件签收"
    result = _parse("jtexpress", doc)

    assert result.events[0].code == "快件签收"
    assert result.status == "delivered"


def test_jt_multi_piece_waybill_counts_its_pieces_under_the_main_number():
    result = registry.parse(
        "jtexpress", (FIXTURES / "jtexpress/MultiPieceResponse.json").read_bytes()
    )

    assert result.pieces == 2
    assert result.tracking_number == "630002864925"
    assert "110" in {e.code for e in result.events}


# --- Cainiao -------------------------------------------------------------------


def test_cainiao_epoch_is_the_instant_and_time_zone_the_wall_clock():
    delivered = _parse("cainiao", _doc("cainiao", "TrackingResponse.json")).events[0]

    assert delivered.code == "GTMS_SIGNED"
    assert delivered.occurred_at.utcoffset() == timedelta(hours=2)
    assert delivered.occurred_at.astimezone(UTC) == datetime(2024, 6, 13, 9, 32, tzinfo=UTC)


def test_cainiao_duties_due_has_its_own_substatus():
    doc = _doc("cainiao", "TrackingResponse.json")
    details = doc["module"][0]["detailList"]
    del details[:2]  # not yet out for delivery
    details[0]["actionCode"] = "CUS_TAX"
    result = _parse("cainiao", doc)

    assert (result.status, result.substatus) == ("exception", "duties_due")


def test_cainiao_unknown_action_code_is_flagged_and_parcel_status_is_the_fallback():
    doc = _doc("cainiao", "TrackingResponse.json")
    for detail in doc["module"][0]["detailList"]:
        detail["actionCode"] = "BRAND_NEW_CODE"
    result = _parse("cainiao", doc)

    assert result.unmapped_codes == ["BRAND_NEW_CODE"]
    assert result.status == "delivered"  # module status SIGNIN


# --- China Post / EMS -----------------------------------------------------------


def test_china_post_times_are_china_standard_time():
    result = registry.parse(
        "chinapost", (FIXTURES / "chinapost/TrackingResponse.json").read_bytes()
    )

    assert result.events[0].occurred_at.isoformat() == "2024-12-27T12:32:28+08:00"
    assert result.events[0].location.region == "上海市"


def test_china_post_unknown_op_code_is_unmapped():
    doc = _doc("chinapost", "TracePush.json")
    doc["traces"][1]["opCode"] = "999"
    result = _parse("chinapost", doc)

    assert result.unmapped_codes == ["999"]
    assert result.events[0].is_mapped is False
    assert result.status == "in_transit"  # from 203, the scan we know


# --- 4PX -------------------------------------------------------------------------


def test_4px_time_is_beijing_time_unless_the_event_names_its_zone():
    events = registry.parse("4px", (FIXTURES / "4px/TrackingResponse.json").read_bytes()).events

    assert events[0].occurred_at.isoformat() == "2024-09-10T14:05:00+02:00"
    assert events[-1].occurred_at.isoformat() == "2024-09-02T19:30:00+08:00"


@pytest.mark.parametrize(
    ("code", "status", "substatus", "mapped"),
    [
        ("FPX_D_FD03", "failed_attempt", "", True),  # a reason variant of FPX_D_FD
        ("FPX_I_HC01", "exception", "customs_hold", True),
        ("FPX_Y_DS", "exception", "destroyed", True),
        ("FPX_Z_NEW", "in_transit", "", False),
    ],
)
def test_4px_codes_and_reason_variants(code, status, substatus, mapped):
    doc = _doc("4px", "TrackingResponse.json")
    doc["data"]["trackingList"][0]["businessLinkCode"] = code
    event = _parse("4px", doc).events[0]

    assert (event.status, event.substatus, event.is_mapped) == (status, substatus, mapped)


# --- PostNL ------------------------------------------------------------------------


def test_postnl_local_time_follows_dutch_summer_and_winter_time():
    summer = registry.parse(
        "postnl", (FIXTURES / "postnl/CompleteStatusResponse.json").read_bytes()
    )
    winter = registry.parse("postnl", (FIXTURES / "postnl/CurrentStatusResponse.json").read_bytes())

    assert summer.events[0].occurred_at.isoformat() == "2024-07-02T14:12:09+02:00"
    assert winter.events[0].occurred_at.isoformat() == "2022-11-08T10:13:20+01:00"


def test_postnl_delivery_to_a_neighbour_and_expected_date():
    result = registry.parse(
        "postnl", (FIXTURES / "postnl/CompleteStatusResponse.json").read_bytes()
    )

    assert (result.status, result.substatus) == ("delivered", "delivered_to_neighbour")
    assert result.estimated_delivery == date(2024, 7, 2)


def test_postnl_event_takes_the_status_its_reference_assigns():
    doc = _doc("postnl", "CompleteStatusResponse.json")
    doc["CompleteStatus"]["Shipment"][0]["Event"][0]["Code"] = "J02"  # status 12
    result = _parse("postnl", doc)

    assert result.status == "available_for_pickup"


def test_postnl_note_event_leaves_the_shipment_status_as_it_was():
    doc = _doc("postnl", "CompleteStatusResponse.json")
    shipment = doc["CompleteStatus"]["Shipment"][0]
    shipment["Event"][0]["Code"] = "P21"  # 99: the agreed safe place is visible
    shipment["Status"]["StatusCode"] = "7"
    result = _parse("postnl", doc)

    assert result.events[0].is_mapped is True
    assert result.status == "out_for_delivery"


def test_postnl_unknown_event_code_is_unmapped():
    doc = _doc("postnl", "CompleteStatusResponse.json")
    doc["CompleteStatus"]["Shipment"][0]["Event"][0]["Code"] = "Q99"
    result = _parse("postnl", doc)

    assert result.unmapped_codes == ["Q99"]
    assert result.status == "out_for_delivery"


def test_postnl_multi_collo_shipment_is_one_result_with_two_pieces():
    result = registry.parse("postnl", (FIXTURES / "postnl/MultiColloResponse.json").read_bytes())

    assert result.pieces == 2
    assert result.tracking_number == "3SDEVC111222333"
    assert len(result.events) == 3


def test_postnl_tables_only_name_published_codes():
    published = {*map(str, range(1, 10)), *map(str, range(11, 24)), "27", "28", "31"}
    assert set(STATUSES) == published  # 99, "not applicable", is not a status
    assert set(EVENT_STATUS.values()) <= set(STATUSES)
    # A refinement for a code PostNL does not publish would be a typo.
    assert set(REFINED) <= set(EVENT_STATUS) | NOTES


# --- detection ---------------------------------------------------------------------


def _carriers(number: str) -> list[str]:
    return [c.carrier for c in detect(number)]


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("JT2099306666983", "jtexpress"),
        ("LP00612345678901", "cainiao"),
        ("CNAQV100123456", "cainiao"),
        ("4PX3001518625089CN", "4px"),
        ("3SDEVC288882229", "postnl"),
    ],
)
def test_carrier_prefixes_are_detected(number, carrier):
    assert _carriers(number) == [carrier]


def test_chinese_s10_is_china_post_first_and_ems_is_named():
    (first, *others) = detect("EA123456785CN")

    assert (first.carrier, first.confidence, first.check_digit) == ("chinapost", "high", True)
    assert "EMS" in first.reason
    assert {c.carrier for c in others} == {"yanwen", "yunexpress"}


def test_dutch_s10_is_ambiguous_between_postnl_and_spring():
    assert _carriers("CP123456785NL") == ["postnl", "spring"]


def test_twelve_digit_j_and_t_number_is_only_a_weak_candidate():
    candidates = {c.carrier: c.confidence for c in detect("630002864925")}

    assert candidates["jtexpress"] == "low"
    assert {"fedex", "purolator"} <= set(candidates)


def test_4px_p0_number_is_a_weak_candidate():
    (cand,) = detect("P0123456789012")
    assert (cand.carrier, cand.confidence) == ("4px", "low")


# --- command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "fixture", "status", "number"),
    [
        ("jtexpress", "TrackingResponse.json", "delivered", "JT2099306666983"),
        ("cainiao", "TrackingResponse.json", "delivered", "LP00612345678901"),
        ("ems", "TrackingResponse.json", "delivered", "1272448151316"),
        ("4px", "TrackingResponse.json", "delivered", "4PX3001518625089CN"),
        ("postnl", "CompleteStatusResponse.json", "delivered", "3SDEVC288882229"),
    ],
)
def test_track_parse_round_trip(carrier, fixture, status, number):
    folder = registry.get(carrier).code
    run = subprocess.run(
        [sys.executable, "manage.py", "track_parse", "--carrier", carrier],
        input=(FIXTURES / folder / fixture).read_bytes(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert (data["carrier"], data["status"], data["tracking_number"]) == (folder, status, number)
    assert data["unmapped_codes"] == []
