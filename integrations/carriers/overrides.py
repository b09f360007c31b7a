"""Staff-set statuses for carrier codes our mappings do not know.

Parsers stay free of the database: they flag an unknown code unmapped, and
the code that stores scans asks ``apply`` to fill in what staff decided. The
table is read from the database at most every ``TTL`` seconds per process
(and at once in the process that changed it), so a new mapping reaches every
worker within that time; the background re-apply catches the scans stored
in between."""

from __future__ import annotations

import time

from integrations.carriers.schema import Event, TrackingResult

TTL = 30.0

Table = dict[tuple[str, str], tuple[str, str]]
_cache: tuple[float, Table] | None = None


def table() -> Table:
    """(carrier, code) -> (status, substatus), cached for ``TTL`` seconds."""
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > TTL:
        from integrations.models import CarrierCodeOverride

        rows = CarrierCodeOverride.objects.values_list("carrier", "code", "status", "substatus")
        _cache = (now, {(c, code): (status, sub) for c, code, status, sub in rows})
    return _cache[1]


def forget() -> None:
    """Drop the cached table (after a change, or between tests)."""
    global _cache
    _cache = None


def apply(result: TrackingResult, overrides: Table) -> list[Event]:
    """Map ``result``'s unmapped scans through ``overrides``; returns the scans it changed.

    The shipment's status is then the newest mapped scan's again, as
    ``payloads.finish`` decides it."""
    changed = []
    for event in result.events:
        if event.is_mapped:
            continue
        hit = overrides.get((result.carrier, event.code))
        if hit is not None:
            event.status, event.substatus = hit
            event.is_mapped = True
            changed.append(event)
    if changed:
        newest = next((e for e in result.events if e.is_mapped), None)
        if newest is not None:
            result.status, result.substatus = newest.status, newest.substatus
    return changed
