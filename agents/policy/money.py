"""Money for policy decisions: Decimal amounts rounded to each currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor units that differ from the usual two decimals.
_MINOR_UNITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_QUANTS = {digits: Decimal(1).scaleb(-digits) for digits in (0, 2, 3)}
ZERO = Decimal(0)


def minor_unit(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (2 unless ISO 4217 says otherwise)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantum(currency: str) -> Decimal:
    return _QUANTS[minor_unit(currency)]


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit: what a customer and a merchant would expect."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_money(value: object) -> Decimal:
    """A Decimal from a string or number; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, bool):
        raise ValueError("not an amount")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def format_money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):f}"
