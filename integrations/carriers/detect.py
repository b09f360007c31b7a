"""Which carrier issued a tracking number?

Patterns come from the carriers' documented formats; where a format has a
check digit (UPS 1Z, UPU S10, FedEx, USPS IMpb / SSCC mod-10, DHL Express
mod-7) we verify it, which turns "looks like" into "is". Many formats
overlap (a 12-digit number is FedEx, Purolator or DHL Parcel), so detection
returns every plausible candidate, strongest first, rather than one guess."""

from __future__ import annotations

import re
from dataclasses import dataclass

from integrations.carriers import registry

HIGH, MEDIUM, LOW = "high", "medium", "low"
_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}


@dataclass(frozen=True, slots=True)
class Candidate:
    carrier: str
    confidence: str
    check_digit: bool | None  # None when the format has no check digit
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "carrier": self.carrier,
            "name": registry.get(self.carrier).name,
            "confidence": self.confidence,
            "check_digit": self.check_digit,
            "reason": self.reason,
        }


# --- check digits ----------------------------------------------------------


def ups_check_digit_ok(number: str) -> bool:
    """1Z + 6 shipper + 2 service + 7 package + 1 check; letters count as (ord-63)%10."""
    body, check = number[2:-1], number[-1]
    total = 0
    for i, ch in enumerate(body):
        value = int(ch) if ch.isdigit() else (ord(ch) - 63) % 10
        total += value * 2 if i % 2 else value
    return str((10 - total % 10) % 10) == check


def s10_check_digit_ok(number: str) -> bool:
    """UPU S10: weights 8 6 4 2 3 5 9 7 over the serial; 10 -> 0, 11 -> 5."""
    digits, check = number[2:10], int(number[10])
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    expected = 11 - total % 11
    expected = {10: 0, 11: 5}.get(expected, expected)
    return expected == check


def mod10_3_1_ok(number: str) -> bool:
    """GS1 / USPS IMpb / SSCC: weights 3,1 from the right of the payload."""
    payload, check = number[:-1], int(number[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10 == check


def fedex12_ok(number: str) -> bool:
    """FedEx Express 12 digits: weights 1,3,7 from the right; sum mod 11 mod 10."""
    payload, check = number[:-1], int(number[-1])
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(payload)))
    return total % 11 % 10 == check


def dhl10_ok(number: str) -> bool:
    """DHL Express waybill: first nine digits mod 7 equal the tenth."""
    return int(number[:9]) % 7 == int(number[9])


# --- patterns --------------------------------------------------------------

S10 = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
# The S10 suffix is the issuing post's country; only posts we support are listed.
S10_POSTS = {
    "US": ("usps",), "GB": ("royalmail",), "CA": ("canadapost",), "AU": ("australiapost",),
    "FR": ("laposte", "colissimo", "chronopost"), "BE": ("bpost",), "DE": ("dhl",),
    "NL": ("postnl", "spring"), "CN": ("chinapost", "yanwen", "yunexpress"),
}  # fmt: skip

SIMPLE_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^TBA\d{12}$"), "amazon_shipping", "Amazon TBA number"),
    (re.compile(r"^SF\d{12,13}$"), "sf_express", "SF waybill"),
    (re.compile(r"^YT\d{16}$"), "yunexpress", "YunExpress YT number"),
    (re.compile(r"^LTN\d+N\d+$"), "landmark", "Landmark LTN number"),
    (re.compile(r"^D\d{21}$"), "canpar", "Canpar barcode"),
    (re.compile(r"^H\d{19}$"), "hermes", "Hermes shipment ID"),
    (re.compile(r"^\d[A-Z]\d{11}$"), "colissimo", "Colissimo parcel number"),
    (re.compile(r"^32\d{22}$"), "bpost", "bpost 24-digit barcode"),
    (re.compile(r"^EZ\d{10}$"), "easypost", "EasyPost test tracker"),
    (re.compile(r"^JT\d{13}$"), "jtexpress", "J&T Express JT waybill"),
    (re.compile(r"^LP\d{14}$"), "cainiao", "Cainiao LP logistics order"),
    (re.compile(r"^CNAQV\d{8,12}$"), "cainiao", "Cainiao CNAQV number"),
    (re.compile(r"^4PX\d{13,16}(CN)?$"), "4px", "4PX number"),
    (re.compile(r"^3S[A-Z]{4}\d{6,11}$"), "postnl", "PostNL 3S barcode"),
)
# Formats shared with other carriers' numbers: plausible, never certain.
WEAK_PATTERNS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^P0\d{10,14}$"), "4px", "4PX P0 order number"),
)


def _digits(number: str) -> list[Candidate]:
    n = len(number)
    out: list[Candidate] = []
    if n == 10:
        ok = dhl10_ok(number)
        out.append(Candidate("dhl_express", HIGH if ok else LOW, ok, "10-digit waybill, mod 7"))
        out.append(Candidate("aramex", LOW, None, "10-digit waybill"))
    if n == 12:
        ok = fedex12_ok(number)
        out.append(Candidate("fedex", HIGH if ok else LOW, ok, "12-digit Express, mod 11"))
        out.append(Candidate("purolator", LOW, None, "12-digit PIN"))
    if n == 15:
        ok = mod10_3_1_ok(number)
        out.append(Candidate("fedex", MEDIUM if ok else LOW, ok, "15-digit Ground"))
    if n == 9:
        out.append(Candidate("tnt", LOW, None, "9-digit consignment"))
    if n == 11:
        out.append(Candidate("gls", MEDIUM, None, "11-digit parcel number"))
        out.append(Candidate("aramex", LOW, None, "11-digit waybill"))
    if n == 12:
        out.append(Candidate("jtexpress", LOW, None, "12-digit J&T waybill"))
    if n == 13 and number[0] in "19":
        out.append(Candidate("chinapost", LOW, None, "13-digit domestic mail number"))
    if n == 14:
        out.append(Candidate("dpd", MEDIUM, None, "14-digit parcel number"))
        out.append(Candidate("hermes", LOW, None, "14-digit barcode"))
    if n == 16:
        out.append(Candidate("canadapost", MEDIUM, None, "16-digit PIN"))
        out.append(Candidate("hermes", LOW, None, "16-digit barcode"))
    if n in (20, 22, 26, 30, 34) and number.startswith("9"):
        # USPS IMpb: 92/93/94/95 + service code; FedEx SmartPost starts 92 too.
        ok = mod10_3_1_ok(number)
        out.append(Candidate("usps", HIGH if ok else LOW, ok, "IMpb, mod 10"))
        if number.startswith(("96", "92")):
            out.append(Candidate("fedex", MEDIUM if ok else LOW, ok, "FedEx Ground / SmartPost"))
    if n in (18, 20) and (number.startswith("00") or n == 18):
        sscc = number[2:] if n == 20 else number
        ok = mod10_3_1_ok(sscc)
        out.append(Candidate("dhl_parcel_de", HIGH if ok else LOW, ok, "SSCC, mod 10"))
    if n == 12 and number.startswith(("00", "34")):
        out.append(Candidate("dhl_parcel_de", LOW, None, "12-digit Paket number"))
    return out


def detect(raw_number: str) -> list[Candidate]:
    """Plausible carriers for a tracking number, strongest first; [] when none fit."""
    number = re.sub(r"[\s-]", "", raw_number or "").upper()
    out: list[Candidate] = []
    if re.fullmatch(r"1Z[0-9A-Z]{16}", number):
        ok = ups_check_digit_ok(number)
        out.append(Candidate("ups", HIGH if ok else MEDIUM, ok, "1Z number"))
    if S10.fullmatch(number):
        ok = s10_check_digit_ok(number)
        for carrier in S10_POSTS.get(number[-2:], ()):
            reason = f"UPU S10, issued by {number[-2:]}"
            if carrier == "chinapost" and number[0] == "E":
                reason += " (EMS)"
            out.append(Candidate(carrier, HIGH if ok else LOW, ok, reason))
        if number[-2:] not in S10_POSTS:
            # An S10 from a post we do not integrate: the aggregators cover it.
            level = MEDIUM if ok else LOW
            out.append(Candidate("17track", level, ok, "UPU S10 (aggregator)"))
            out.append(Candidate("aftership", level, ok, "UPU S10 (aggregator)"))
    for pattern, carrier, reason in SIMPLE_PATTERNS:
        if pattern.fullmatch(number):
            out.append(Candidate(carrier, MEDIUM, None, reason))
    for pattern, carrier, reason in WEAK_PATTERNS:
        if pattern.fullmatch(number):
            out.append(Candidate(carrier, LOW, None, reason))
    if number.isdigit():
        out.extend(_digits(number))
    seen: set[str] = set()
    unique = []
    for cand in sorted(out, key=lambda c: _RANK[c.confidence]):
        if cand.carrier not in seen:
            seen.add(cand.carrier)
            unique.append(cand)
    return unique
