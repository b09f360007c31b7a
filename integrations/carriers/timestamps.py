"""Carrier timestamps to aware datetimes.

Carriers report scan times in four shapes: ISO 8601 with an offset (easy), a
UTC instant beside a local time (prefer the UTC one), a local wall-clock time
with a separate offset or zone abbreviation, or a bare local time. A bare
local time is only meaningful in the zone of the scan's location, so callers
pass the country (and region where a country spans several zones)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

# Countries that keep a single civil time zone, by ISO code. Countries that
# span several zones are resolved through their regions below, falling back
# to the most populous zone.
COUNTRY_ZONE = {
    "AE": "Asia/Dubai", "AT": "Europe/Vienna", "AU": "Australia/Sydney",
    "BE": "Europe/Brussels", "BG": "Europe/Sofia", "BH": "Asia/Bahrain",
    "BR": "America/Sao_Paulo", "CA": "America/Toronto", "CH": "Europe/Zurich",
    "CN": "Asia/Shanghai", "CZ": "Europe/Prague", "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen", "EG": "Africa/Cairo", "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki", "FR": "Europe/Paris", "GB": "Europe/London",
    "GR": "Europe/Athens", "HK": "Asia/Hong_Kong", "HU": "Europe/Budapest",
    "IE": "Europe/Dublin", "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata",
    "IT": "Europe/Rome", "JM": "America/Jamaica", "JO": "Asia/Amman",
    "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "KW": "Asia/Kuwait",
    "LU": "Europe/Luxembourg", "MX": "America/Mexico_City", "MY": "Asia/Kuala_Lumpur",
    "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "NZ": "Pacific/Auckland",
    "OM": "Asia/Muscat", "PH": "Asia/Manila", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "QA": "Asia/Qatar", "RO": "Europe/Bucharest",
    "SA": "Asia/Riyadh", "SE": "Europe/Stockholm", "SG": "Asia/Singapore",
    "SK": "Europe/Bratislava", "TH": "Asia/Bangkok", "TR": "Europe/Istanbul",
    "TW": "Asia/Taipei", "US": "America/New_York", "VN": "Asia/Ho_Chi_Minh",
    "ZA": "Africa/Johannesburg",
}  # fmt: skip

_US_CENTRAL = "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI"
_US_MOUNTAIN = "CO MT NM UT WY ID"
_US_PACIFIC = "CA NV OR WA"
US_STATES = frozenset(
    [
        *(_US_CENTRAL + " " + _US_MOUNTAIN + " " + _US_PACIFIC).split(),
        "AZ",
        "AK",
        "HI",
        "PR",
        "DC",
        "DE",
        "FL",
        "GA",
        "IN",
        "KY",
        "MA",
        "MD",
        "ME",
        "MI",
        "NC",
        "NH",
        "NJ",
        "NY",
        "OH",
        "PA",
        "RI",
        "SC",
        "VA",
        "VT",
        "WV",
    ]
)
REGION_ZONE: dict[tuple[str, str], str] = {
    **{("US", s): "America/Chicago" for s in _US_CENTRAL.split()},
    **{("US", s): "America/Denver" for s in _US_MOUNTAIN.split()},
    **{("US", s): "America/Los_Angeles" for s in _US_PACIFIC.split()},
    ("US", "AZ"): "America/Phoenix",
    ("US", "AK"): "America/Anchorage",
    ("US", "HI"): "Pacific/Honolulu",
    ("US", "PR"): "America/Puerto_Rico",
    ("CA", "BC"): "America/Vancouver",
    ("CA", "AB"): "America/Edmonton",
    ("CA", "SK"): "America/Regina",
    ("CA", "MB"): "America/Winnipeg",
    ("CA", "QC"): "America/Toronto",
    ("CA", "PQ"): "America/Toronto",
    ("CA", "NB"): "America/Moncton",
    ("CA", "NS"): "America/Halifax",
    ("CA", "PE"): "America/Halifax",
    ("CA", "NL"): "America/St_Johns",
    ("CA", "YT"): "America/Whitehorse",
    ("CA", "NT"): "America/Yellowknife",
    ("AU", "QLD"): "Australia/Brisbane",
    ("AU", "VIC"): "Australia/Melbourne",
    ("AU", "SA"): "Australia/Adelaide",
    ("AU", "WA"): "Australia/Perth",
    ("AU", "NT"): "Australia/Darwin",
    ("AU", "TAS"): "Australia/Hobart",
}

# North American zone abbreviations as Canada Post and others print them.
ABBREVIATION_OFFSET_HOURS = {
    "UTC": 0, "GMT": 0, "NST": -3.5, "NDT": -2.5, "AST": -4, "ADT": -3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
    "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
}  # fmt: skip


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=1024)
def zone_for(country: str = "", region: str = "", default: str = "UTC") -> ZoneInfo:
    # Cached: every scan of a reply asks again for the same few places.
    country = (country or "").upper()
    name = REGION_ZONE.get((country, (region or "").upper())) or COUNTRY_ZONE.get(country)
    return zone(name or default)


@lru_cache(maxsize=64)
def fixed_offset(text: str) -> timezone | None:
    """'+8', '-05:00', '+0530', 'EST' -> a fixed offset; None if unreadable."""
    text = text.strip()
    if not text:
        return None
    hours = ABBREVIATION_OFFSET_HOURS.get(text.upper())
    if hours is not None:
        return timezone(timedelta(hours=hours))
    if text.upper().startswith(("GMT", "UTC")):
        text = text[3:] or "+0"
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-").replace(":", "")
    if not body.isdigit():
        return None
    minutes = int(body) * 60 if len(body) <= 2 else int(body[:-2]) * 60 + int(body[-2:])
    return timezone(sign * timedelta(minutes=minutes))


def parse_iso(text: str | None) -> datetime | None:
    """ISO 8601 (with 'Z', '+hh:mm', '+hhmm' or ' UTC'); naive when it has no offset."""
    if not text:
        return None
    text = text.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def localize(value: datetime | None, tz: ZoneInfo | timezone) -> datetime | None:
    """Attach ``tz`` to a naive local time; aware values are left as they are."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=tz)


def parse_local(
    text: str | None, tz: ZoneInfo | timezone, fmt: str | None = None
) -> datetime | None:
    """Parse a carrier's local time (ISO or ``fmt``) and place it in ``tz``."""
    if not text:
        return None
    if fmt is None:
        value = parse_iso(text)
    else:
        try:
            value = datetime.strptime(text.strip(), fmt)
        except ValueError:
            value = None
    return localize(value, tz)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_date(text: str | None) -> date | None:
    """A delivery estimate as a date: '2024-01-15', '20240115', or any ISO timestamp."""
    if not text:
        return None
    text = text.strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
