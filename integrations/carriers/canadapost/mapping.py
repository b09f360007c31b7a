"""Canada Post tracking details (XML, ``tracking-detail``) -> our schema.

Events carry Canada Post's numeric ``event-identifier``; times are local to
the event site with a zone abbreviation (EST, PDT, ...)."""

from __future__ import annotations

from integrations.carriers import timestamps
from integrations.carriers.payloads import (
    CodeTable,
    error,
    finish,
    load_xml,
    make_event,
    not_found,
    text,
)
from integrations.carriers.schema import Location, TrackingResult
from integrations.carriers.schema import Substatus as U
from integrations.models import TrackingStatus as S

CARRIER = "canadapost"

_IT = (S.IN_TRANSIT, "")
CODES: CodeTable = {
    "3000": (S.INFO_RECEIVED, ""), "3001": (S.INFO_RECEIVED, ""), "0001": _IT,
    "0100": _IT, "0170": _IT, "0171": _IT, "0172": _IT,
    "0173": (S.IN_TRANSIT, U.ADDRESS_PROBLEM), "0174": (S.OUT_FOR_DELIVERY, ""),
    "0500": (S.OUT_FOR_DELIVERY, ""), "1496": (S.DELIVERED, ""),
    "1408": (S.DELIVERED, ""), "1409": (S.DELIVERED, ""), "1421": (S.DELIVERED, ""),
    "1441": (S.DELIVERED, U.DELIVERED_SAFE_PLACE), "20": (S.DELIVERED, U.SIGNED_FOR),
    "1701": (S.FAILED_ATTEMPT, ""), "1702": (S.FAILED_ATTEMPT, ""),
    "0410": (S.AVAILABLE_FOR_PICKUP, ""), "1414": (S.AVAILABLE_FOR_PICKUP, ""),
    "0166": (S.EXCEPTION, U.RETURNING_TO_SENDER),
}  # fmt: skip

NOT_FOUND_CODES = {"004", "002"}


def parse(raw: str | bytes) -> TrackingResult:
    root = load_xml(raw)
    messages = root.find(".//messages")
    if messages is not None:
        first = messages.find("message")
        code = text(first, "code")
        make = not_found if code in NOT_FOUND_CODES else error
        return make(CARRIER, text(first, "description"), code)
    detail = root if root.tag == "tracking-detail" else root.find(".//tracking-detail")
    if detail is None:
        return error(CARRIER, "unexpected Canada Post reply")
    events = []
    for ev in detail.iterfind("significant-events/occurrence"):
        loc = Location(city=text(ev, "event-site"), region=text(ev, "event-province"), country="CA")
        tz = timestamps.fixed_offset(text(ev, "event-time-zone")) or timestamps.zone_for(
            "CA", loc.region
        )
        when = timestamps.parse_local(f"{text(ev, 'event-date')}T{text(ev, 'event-time')}", tz)
        events.append(
            make_event(
                CODES,
                text(ev, "event-identifier"),
                when,
                text(ev, "event-description"),
                loc,
                raw={c.tag: (c.text or "") for c in ev},
            )
        )
    estimated = timestamps.parse_date(
        text(detail, "changed-expected-date") or text(detail, "expected-delivery-date")
    )
    return finish(CARRIER, text(detail, "pin"), events, estimated_delivery=estimated)
