"""The normalized JSON of every fixture is pinned, byte for byte.

``normalized.json`` holds what ``track_parse --jsonl`` printed for each
fixture before the parsers were tuned for speed; any optimisation must keep
printing exactly that (values, key order and all). Regenerate it only for a
deliberate mapping change:

    manage.py shell -c "from tests.integrations.carriers.test_normalized_output import pin; pin()"
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.management.commands.track_parse import parse_line
from tests.integrations.carriers.test_mapping import EXPECTED, FIXTURES

PINNED = Path(__file__).parent / "normalized.json"


def _line(carrier: str, name: str) -> str:
    raw = (FIXTURES / carrier / name).read_text(encoding="utf-8", errors="surrogateescape")
    return json.dumps({"carrier": carrier, "payload": raw})


def _printed(carrier: str, name: str) -> str:
    # What the --jsonl loop writes for this request line.
    return json.dumps(parse_line(_line(carrier, name)), ensure_ascii=False)


@pytest.mark.parametrize(("carrier", "name"), [(c, n) for c, n, _, _ in EXPECTED])
def test_jsonl_output_is_unchanged_for_every_fixture(carrier, name):
    pinned = json.loads(PINNED.read_text())

    assert _printed(carrier, name) == json.dumps(pinned[f"{carrier}/{name}"], ensure_ascii=False)


def test_every_fixture_is_pinned():
    pinned = json.loads(PINNED.read_text())

    assert set(pinned) == {f"{c}/{n}" for c, n, _, _ in EXPECTED}


def test_fedex_track_api_and_soap_replies_of_one_shipment_read_the_same():
    soap = parse_line(_line("fedex", "TrackingResponseXML.xml"))
    track_api = parse_line(_line("fedex", "TrackingResponseJSON.json"))

    assert track_api == soap
    assert [e["code"] for e in track_api["events"]] == ["AE", "PU", "OC"]


def pin() -> None:
    PINNED.write_text(
        json.dumps(
            {f"{c}/{n}": json.loads(_printed(c, n)) for c, n, _, _ in EXPECTED},
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )
