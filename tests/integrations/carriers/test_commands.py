"""The track_parse / track_detect / track_carriers management commands."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.actions import record_tracking_event
from integrations.carriers import registry

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]


def _manage(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], input=stdin, capture_output=True, cwd=ROOT, timeout=60
    )


def test_track_parse_prints_normalized_json():
    run = _manage(
        "track_parse",
        "--carrier",
        "usps",
        stdin=(FIXTURES / "usps/usps__TrackingResponse.json").read_bytes(),
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["status"] == "delivered"
    assert data["tracking_number"] == "9400109104250532908587"
    assert set(data["events"][0]) >= {
        "occurred_at",
        "status",
        "substatus",
        "code",
        "description",
        "location",
    }


def test_track_parse_not_found_exits_non_zero_with_one_line_reason():
    run = _manage(
        "track_parse",
        "--carrier",
        "ups",
        stdin=(FIXTURES / "ups/TrackingNumberNotFoundResponseJSON.json").read_bytes(),
    )
    assert run.returncode == 3
    assert run.stderr.decode().strip() == "not found: Tracking Information Not Found"


def test_track_parse_malformed_input_exits_non_zero():
    run = _manage("track_parse", "--carrier", "fedex", stdin=b"<TrackReply")
    assert run.returncode != 0
    assert "malformed fedex payload" in run.stderr.decode()


def test_track_parse_jsonl_writes_one_result_per_line(monkeypatch):
    lines = [
        {"carrier": "ups", "payload": (FIXTURES / "ups/TrackingResponseJSON.json").read_text()},
        {
            "carrier": "dhl_express",
            "payload": (FIXTURES / "dhl_express/dhl_express__TrackingResponseXML.xml").read_text(),
        },
        {"carrier": "nope", "payload": "{}"},
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(json.dumps(x) for x in lines) + "\n"))
    out = io.StringIO()
    call_command("track_parse", "--jsonl", stdout=out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["outcome"] for r in results] == ["found", "found", "error"]
    assert results[1]["status"] == "delivered"


def test_track_detect_lists_candidates():
    out = io.StringIO()
    call_command("track_detect", "794887075005", stdout=out)
    data = json.loads(out.getvalue())
    assert data["candidates"][0]["carrier"] == "fedex"
    assert len(data["candidates"]) > 1


def test_track_carriers_json_lists_thirty_plus_codes_with_capabilities():
    out = io.StringIO()
    call_command("track_carriers", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert len(data) >= 30
    assert {"ups", "fedex", "usps", "dhl_express", "aftership", "17track", "easypost"} <= {
        c["code"] for c in data
    }
    assert {"jtexpress", "cainiao", "chinapost", "4px", "postnl"} <= {c["code"] for c in data}
    assert data[0]["capabilities"]["parse"] is True
    clients = {c["code"] for c in data if c["capabilities"]["client"]}
    # Every carrier has a client except China Post / EMS, whose API is issued per contract.
    assert clients == {c["code"] for c in data} - {"chinapost"}


@pytest.mark.django_db
def test_parsed_events_store_idempotently(tenant_shipment):
    result = registry.parse("usps", (FIXTURES / "usps/usps__TrackingResponse.json").read_bytes())
    for _ in range(2):
        for event in reversed(result.events):
            record_tracking_event(
                tenant_shipment,
                occurred_at=event.occurred_at,
                status=event.status,
                substatus=event.substatus,
                carrier_code=event.code,
                description=event.description,
                city=event.location.city,
                region=event.location.region,
                country=event.location.country,
                raw=event.raw,
            )
    tenant_shipment.refresh_from_db()
    # Two identical USPS "TL" scans differ in time, so all 12 are distinct scans.
    assert tenant_shipment.events.count() == len(result.events)
    assert tenant_shipment.status == "delivered"
