"""Shared building blocks for carrier mappings: reading payloads, code tables,
and finishing a result.

A mapping module reads the carrier's document, turns each scan into an
``Event`` through its code table, and hands the list to ``finish``, which
orders it and derives the shipment's status from the newest mapped event
unless the carrier gave an overall status of its own."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from integrations.carriers.schema import Event, Location, Outcome, TrackingResult
from integrations.models import TrackingStatus as S


class MalformedPayload(ValueError):
    """The payload is not the carrier's format at all (not JSON/XML, wrong shape)."""


# A code table maps a carrier's code to (status, substatus).
CodeTable = dict[str, tuple[str, str]]


def load_json(raw: str | bytes | dict | list) -> Any:
    if isinstance(raw, (dict, list)):
        return raw  # already decoded by the caller (a JSONL line embedding it)
    try:
        return json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise MalformedPayload(f"not JSON: {exc}") from None


def load_xml(raw: str | bytes) -> ET.Element:
    """Parse XML and drop namespaces so mappings can use plain tag names."""
    if isinstance(raw, str):
        raw = raw.encode()
    try:
        root = ET.fromstring(raw.strip())  # noqa: S314 - carrier responses, no DTDs expanded by expat
    except ET.ParseError as exc:
        raise MalformedPayload(f"not XML: {exc}") from None
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag[0] == "{":
            el.tag = tag.rpartition("}")[2]
    return root


def looks_like_xml(raw: str | bytes | dict | list) -> bool:
    if isinstance(raw, (dict, list)):
        return False
    head = raw[:64].lstrip()
    return head[:1] in ("<", b"<")


def text(el: ET.Element | None, path: str = "", default: str = "") -> str:
    if el is None:
        return default
    node = el.find(path) if path else el
    if node is None or node.text is None:
        return default
    return node.text.strip()


def lookup(
    table: CodeTable, code: str, fallback: tuple[str, str] | None = None
) -> tuple[str, str, bool]:
    """(status, substatus, is_mapped) for a carrier code.

    An unknown code is never guessed from its description: it gets the
    carrier-level fallback (or in-transit) and is flagged unmapped."""
    hit = table.get(code)
    if hit is not None:
        return hit[0], hit[1], True
    if fallback is not None:
        return fallback[0], fallback[1], False
    return S.IN_TRANSIT, "", False


def make_event(
    table: CodeTable,
    code: str,
    occurred_at: datetime | None,
    description: str = "",
    location: Location | None = None,
    raw: Any = None,
    fallback: tuple[str, str] | None = None,
) -> Event:
    hit = table.get(code)
    if hit is not None:
        status, substatus, mapped = hit[0], hit[1], True
    else:
        status, substatus, mapped = lookup(table, code, fallback)
    return Event(
        occurred_at=occurred_at,
        status=status,
        substatus=substatus,
        code=code,
        description=" ".join(description.split()) if description else "",
        location=location or Location(),
        is_mapped=mapped,
        raw=raw,
    )


def not_found(carrier: str, message: str, code: str = "", number: str = "") -> TrackingResult:
    return TrackingResult(
        carrier=carrier,
        outcome=Outcome.NOT_FOUND,
        tracking_number=number,
        message=message or "tracking number not found",
        error_code=code,
    )


def error(carrier: str, message: str, code: str = "", number: str = "") -> TrackingResult:
    return TrackingResult(
        carrier=carrier,
        outcome=Outcome.ERROR,
        tracking_number=number,
        message=message or "carrier returned an error",
        error_code=str(code),
    )


_OCCURRED_AT = attrgetter("occurred_at")


def _sort_key(event: Event) -> float:
    return event.occurred_at.timestamp() if event.occurred_at else float("-inf")


def finish(
    carrier: str,
    tracking_number: str,
    events: Iterable[Event],
    *,
    status: tuple[str, str] | None = None,
    overall: tuple[str, str] | None = None,
    estimated_delivery: date | None = None,
    pieces: int = 1,
) -> TrackingResult:
    """A found result, events newest first.

    The shipment's status is the newest mapped event's, because summary
    fields lag behind scans in several carriers' responses. ``overall`` (the
    carrier's summary status) is used when no event could be mapped;
    ``status`` forces the result for carriers whose events carry no codes."""
    try:
        # Comparing datetimes directly stays in C; a scan without a time (or
        # a naive one) makes this raise, and the slower key handles it.
        ordered = sorted(events, key=_OCCURRED_AT, reverse=True)
    except TypeError:
        ordered = sorted(events, key=_sort_key, reverse=True)
    if status is None:
        newest = next((e for e in ordered if e.is_mapped), None)
        if newest is not None:
            status = (newest.status, newest.substatus)
        else:
            status = overall or (S.PENDING, "")
    return TrackingResult(
        carrier=carrier,
        tracking_number=tracking_number,
        status=status[0],
        substatus=status[1],
        estimated_delivery=estimated_delivery,
        events=ordered,
        pieces=pieces,
    )


def split_location(text_value: str, country: str = "") -> Location:
    """'Quebec City, QC, CA' / 'Columbus, OH' / 'Puurs (BE)' -> a Location.

    Only used where the carrier gives location as one string."""
    value = (text_value or "").strip()
    if not value:
        return Location(country=country)
    if value.endswith(")") and "(" in value:
        head, _, tail = value[:-1].rpartition("(")
        if len(tail) == 2 and tail.isalpha():
            return Location(city=head.strip(), country=tail.upper())
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return Location(city=parts[0], region=parts[-2], country=parts[-1].upper())
    if len(parts) == 2 and len(parts[1]) in (2, 3) and parts[1].isalpha() and parts[1].isupper():
        return Location(city=parts[0], region=parts[1], country=country)
    return Location(city=value, country=country)


# ISO 3166 alpha-3 -> alpha-2 for carriers that report three-letter codes.
ALPHA3 = {
    "AUS": "AU", "AUT": "AT", "BEL": "BE", "BRA": "BR", "CAN": "CA", "CHE": "CH",
    "CHN": "CN", "CZE": "CZ", "DEU": "DE", "DNK": "DK", "ESP": "ES", "FIN": "FI",
    "FRA": "FR", "GBR": "GB", "GRC": "GR", "HKG": "HK", "HUN": "HU", "IRL": "IE",
    "ITA": "IT", "JPN": "JP", "KOR": "KR", "LUX": "LU", "MEX": "MX", "NLD": "NL",
    "NOR": "NO", "NZL": "NZ", "POL": "PL", "PRT": "PT", "SGP": "SG", "SWE": "SE",
    "TWN": "TW", "USA": "US", "ZAF": "ZA", "ARE": "AE", "IND": "IN", "ISR": "IL",
}  # fmt: skip


def country2(code: str | None) -> str:
    code = (code or "").strip().upper()
    if len(code) == 3:
        return ALPHA3.get(code, "")
    return code if len(code) == 2 else ""


# English country names as carriers print them in free-text locations.
COUNTRY_NAMES = {
    "australia": "AU", "austria": "AT", "belgium": "BE", "brazil": "BR", "canada": "CA",
    "china": "CN", "czech republic": "CZ", "denmark": "DK", "france": "FR",
    "germany": "DE", "deutschland": "DE", "greece": "GR", "hong kong": "HK",
    "hungary": "HU", "india": "IN", "ireland": "IE", "italy": "IT", "jamaica": "JM",
    "japan": "JP", "luxembourg": "LU", "mexico": "MX", "netherlands": "NL",
    "new zealand": "NZ", "norway": "NO", "poland": "PL", "portugal": "PT",
    "singapore": "SG", "south africa": "ZA", "spain": "ES", "sweden": "SE",
    "switzerland": "CH", "united kingdom": "GB", "united states": "US",
    "united arab emirates": "AE", "usa": "US", "uk": "GB", "jam": "JM",
}  # fmt: skip


def country_from_name(name: str | None) -> str:
    """'Spain' / 'USA' / 'DEU' / 'de' -> ISO alpha-2, '' when unknown."""
    value = (name or "").strip()
    if not value:
        return ""
    hit = COUNTRY_NAMES.get(value.lower())
    if hit:
        return hit
    return country2(value)
