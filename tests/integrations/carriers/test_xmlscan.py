"""The string-search path for FedEx and DHL Express XML reads exactly what the full parser reads,
and hands every document it cannot read safely to the full parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.carriers import registry, xmlscan
from integrations.carriers.dhl_express import mapping as dhl_express
from integrations.carriers.fedex import mapping as fedex
from integrations.carriers.payloads import MalformedPayload
from integrations.management.commands.track_parse import parse_line

FIXTURES = Path(__file__).parent / "fixtures"
FEDEX_OK = (FIXTURES / "fedex/TrackingResponseXML.xml").read_text()
DHL_OK = (FIXTURES / "dhl_express/dhl_express__TrackingResponseXML.xml").read_text()
DHL_IN_TRANSIT = (
    FIXTURES / "dhl_express/dhl_express__IntransitTrackingResponseXML.xml"
).read_text()


def _full(result):
    """Everything a caller can see of a result, raw events included."""
    return {**result.as_dict(), "raws": [e.raw for e in result.events], "pieces": result.pieces}


def _without_scan(monkeypatch, module, name):
    monkeypatch.setattr(module, name, lambda raw: None)


@pytest.mark.parametrize(
    ("carrier", "module", "scan", "path"),
    [
        (carrier, module, scan, path)
        for carrier, module, scan in [
            ("fedex", fedex, "_scan_soap"),
            ("dhl_express", dhl_express, "_scan_xml"),
        ]
        for path in sorted((FIXTURES / carrier).glob("*.xml"))
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_scan_and_full_parser_agree_on_every_fixture(monkeypatch, carrier, module, scan, path):
    raw = path.read_bytes()
    scanned = registry.parse(carrier, raw)
    _without_scan(monkeypatch, module, scan)
    assert _full(scanned) == _full(registry.parse(carrier, raw))


def test_success_replies_take_the_scan_path():
    assert fedex._scan_soap(FEDEX_OK) is not None
    assert dhl_express._scan_xml(DHL_OK) is not None
    # DHL appends a comment after the root element; that must not disable the scan.
    assert DHL_IN_TRANSIT.rstrip().endswith("-->")
    assert dhl_express._scan_xml(DHL_IN_TRANSIT) is not None


def test_error_replies_are_left_to_the_full_parser():
    for name in ("TrackingAuthErrorXML.xml", "TrackingErrorResponseXML.xml"):
        assert fedex._scan_soap((FIXTURES / "fedex" / name).read_text()) is None
    assert (
        dhl_express._scan_xml((FIXTURES / "dhl_express/dhl_express__AuthError.xml").read_text())
        is None
    )


def test_truncated_reply_is_malformed_not_a_shorter_timeline():
    cut = DHL_OK[: DHL_OK.index("</ShipmentEvent>", 3000)]
    assert xmlscan.document(cut) is None
    with pytest.raises(MalformedPayload):
        registry.parse("dhl_express", cut)


def test_prefixed_fedex_reply_reads_like_the_unprefixed_one():
    body = FEDEX_OK.split("<SOAP-ENV:Body>")[1].split("</SOAP-ENV:Body>")[0]
    prefixed = (
        body.replace(
            '<TrackReply xmlns="http://fedex.com/ws/track/v14">',
            '<v14:TrackReply xmlns:v14="http://fedex.com/ws/track/v14">',
        )
        .replace("</", "</v14:")
        .replace("<", "<v14:")
        .replace("<v14:/v14:", "</v14:")
        .replace("<v14:v14:", "<v14:")
    )
    assert "<v14:Events>" in prefixed
    plain, scanned = registry.parse("fedex", FEDEX_OK), registry.parse("fedex", prefixed)
    assert fedex._scan_soap(prefixed) is not None
    assert _full(scanned) == _full(plain)


def test_scan_element_with_another_prefix_goes_to_the_full_parser():
    mixed = DHL_OK.replace("<ShipmentEvent>", "<x:ShipmentEvent>", 1).replace(
        "</ShipmentEvent>", "</x:ShipmentEvent>", 1
    )
    mixed = mixed.replace("<req:TrackingResponse ", '<req:TrackingResponse xmlns:x="urn:x" ', 1)
    assert dhl_express._scan_xml(mixed) is None
    # The full parser drops namespaces, so the scan is still counted.
    assert len(registry.parse("dhl_express", mixed).events) == len(
        registry.parse("dhl_express", DHL_OK).events
    )


def test_cdata_and_entities_read_the_same_on_both_paths():
    with_cdata = DHL_OK.replace(
        "<Description>Shipment picked up</Description>",
        "<Description><![CDATA[Shipment <picked> up]]></Description>",
        1,
    )
    assert dhl_express._scan_xml(with_cdata) is None
    descriptions = [e.description for e in registry.parse("dhl_express", with_cdata).events]
    assert "Shipment <picked> up" in descriptions

    with_entity = DHL_OK.replace(
        "<Description>Shipment picked up</Description>",
        "<Description>Picked up &amp; scanned &#8211; BCN</Description>",
        1,
    )
    assert dhl_express._scan_xml(with_entity) is not None
    descriptions = [e.description for e in registry.parse("dhl_express", with_entity).events]
    assert "Picked up & scanned \u2013 BCN" in descriptions


def test_non_utf8_declaration_goes_to_the_full_parser():
    latin = DHL_OK.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "Shipment picked up", "Recogido en Barcelona \u00e9"
    )
    raw = latin.encode("latin-1")
    assert xmlscan.document(raw) is None
    descriptions = [e.description for e in registry.parse("dhl_express", raw).events]
    assert "Recogido en Barcelona \u00e9" in descriptions


def test_jsonl_payload_embedded_as_an_object_parses_like_the_string():
    text = (FIXTURES / "ups/TrackingResponseJSON.json").read_text()
    as_string = parse_line(json.dumps({"carrier": "ups", "payload": text}))
    as_object = parse_line(json.dumps({"carrier": "ups", "payload": json.loads(text)}))
    assert as_object == as_string
    assert as_object["outcome"] == "found"


def test_json_object_for_an_xml_only_carrier_is_malformed():
    result = parse_line(json.dumps({"carrier": "dpd", "payload": {"not": "xml"}}))
    assert result["error"]["code"] == "malformed"


def test_field_with_attributes_or_space_reads_like_the_full_parser():
    odd = DHL_OK.replace("<EventCode>PU</EventCode>", '<EventCode xml:lang="en">PU</EventCode>', 1)
    odd = odd.replace("<Time>13:26:00</Time>", "<Time >13:26:00</Time>", 1)
    scanned = dhl_express._scan_xml(odd)
    assert scanned is not None
    assert _full(scanned) == _full(registry.parse("dhl_express", DHL_OK))
    assert xmlscan.value('<a><Code x="1"/></a>', "<Code>") == ""
