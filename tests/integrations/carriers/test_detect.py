"""Tracking-number detection: patterns, check digits, ambiguity."""

from __future__ import annotations

import pytest

from integrations.carriers.detect import (
    detect,
    dhl10_ok,
    fedex12_ok,
    mod10_3_1_ok,
    s10_check_digit_ok,
    ups_check_digit_ok,
)


def _carriers(number: str) -> list[str]:
    return [c.carrier for c in detect(number)]


def test_ups_1z_with_valid_check_digit_is_high_confidence():
    (cand,) = detect("1Z999AA10123456784")
    assert (cand.carrier, cand.confidence, cand.check_digit) == ("ups", "high", True)


def test_ups_1z_with_wrong_check_digit_is_not_high_confidence():
    (cand,) = detect("1Z999AA10123456785")
    assert cand.check_digit is False
    assert cand.confidence != "high"


@pytest.mark.parametrize(
    ("number", "ok"),
    [("EW112720413FR", True), ("FQ087430672GB", True), ("EW112720414FR", False)],
)
def test_upu_s10_mod11_check_digit(number, ok):
    assert s10_check_digit_ok(number) is ok


def test_s10_check_digit_10_becomes_0_and_11_becomes_5():
    # serial 00000001: 1*7 = 7 -> 11-7 = 4; serial 00000019: 1*9+9*7 = 72 -> 72%11=6 -> 5
    assert s10_check_digit_ok("RA000000014CN")
    assert s10_check_digit_ok("RA000000195CN")


def test_s10_suffix_names_the_issuing_post():
    assert _carriers("FQ087430672GB") == ["royalmail"]


def test_french_s10_is_ambiguous_between_la_poste_brands():
    assert set(_carriers("EW112720413FR")) == {"laposte", "colissimo", "chronopost"}


def test_fedex_12_digit_check_digit():
    assert fedex12_ok("794887075005")
    assert not fedex12_ok("794887075006")


def test_twelve_digits_are_ambiguous_and_fedex_ranks_first_when_check_digit_holds():
    carriers = _carriers("794887075005")
    assert carriers[0] == "fedex"
    assert "purolator" in carriers


def test_usps_impb_mod10():
    assert mod10_3_1_ok("9400109104250532908587")
    assert _carriers("9400109104250532908587")[0] == "usps"
    assert detect("9400109104250532908588")[0].confidence == "low"


def test_dhl_express_waybill_mod7():
    assert dhl10_ok("3180831640")
    assert not dhl10_ok("3180831641")


def test_dhl_parcel_sscc():
    assert detect("00340434161094015902")[0].carrier == "dhl_parcel_de"


def test_spaces_and_dashes_are_ignored():
    assert _carriers("1Z 999 AA1 0123 4567 84") == ["ups"]


def test_nonsense_returns_no_candidates():
    assert detect("hello") == []
    assert detect("") == []


def test_ups_check_digit_helper_matches_detect():
    assert ups_check_digit_ok("1Z999AA10123456784")
