"""The customer's time zone and quiet hours.

The customer's zone comes from their shipping address: an explicit
``time_zone``, a US state, or a country with a single zone (from the system's
zone.tab); otherwise the merchant's zone. Quiet hours are local wall-clock
times, so the end of a quiet night moves with daylight saving.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

US_STATE_ZONES = {
    **dict.fromkeys(
        [
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "IN",
            "KY",
            "ME",
            "MD",
            "MA",
            "MI",
            "NH",
            "NJ",
            "NY",
            "NC",
            "OH",
            "PA",
            "RI",
            "SC",
            "VT",
            "VA",
            "WV",
        ],
        "America/New_York",
    ),
    **dict.fromkeys(
        [
            "AL",
            "AR",
            "IL",
            "IA",
            "KS",
            "LA",
            "MN",
            "MS",
            "MO",
            "NE",
            "ND",
            "OK",
            "SD",
            "TN",
            "TX",
            "WI",
        ],
        "America/Chicago",
    ),
    **dict.fromkeys(["CO", "MT", "NM", "UT", "WY", "ID"], "America/Denver"),
    "AZ": "America/Phoenix",
    **dict.fromkeys(["CA", "NV", "OR", "WA"], "America/Los_Angeles"),
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
}


@functools.cache
def _country_zones() -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {}
    for base in zoneinfo.TZPATH:
        path = Path(base) / "zone.tab"
        if path.exists():
            for line in path.read_text().splitlines():
                if line and not line.startswith("#"):
                    parts = line.split("\t")
                    if len(parts) >= 3:
                        zones.setdefault(parts[0], []).append(parts[2])
            break
    return zones


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def customer_zone(address: dict[str, Any] | None, fallback: str) -> zoneinfo.ZoneInfo:
    """Best guess of where the customer lives, by their shipping address."""
    address = address or {}
    explicit = address.get("time_zone")
    if explicit and _zone(explicit):
        return _zone(explicit)
    country = str(address.get("country_code") or address.get("country") or "").upper()
    province = str(address.get("province_code") or "").upper()
    if country == "US" and province in US_STATE_ZONES:
        return _zone(US_STATE_ZONES[province])
    zones = _country_zones().get(country, [])
    if len(zones) == 1 and _zone(zones[0]):
        return _zone(zones[0])
    return _zone(fallback) or _zone("UTC")


def quiet_until(
    now: datetime, zone: zoneinfo.ZoneInfo, start: time | None, end: time | None
) -> datetime | None:
    """When the quiet period that ``now`` falls in ends (UTC), or None outside quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:  # a daytime window, e.g. 12:00-14:00
        if not (start <= clock < end):
            return None
        end_day = local.date()
    else:  # across midnight, e.g. 21:00-08:00
        if end <= clock < start:
            return None
        end_day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
