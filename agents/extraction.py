"""Facts pulled out of customer text. Everything here is a claim, never system data:
an amount a customer writes is kept as a claim and never used to move money."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ORDER_NUMBER = re.compile(r"(?:#|order\s*(?:no\.?|number|nr\.?|#)?\s*:?\s*)([A-Z]{0,4}-?\d{3,10})", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_AMOUNT = re.compile(r"(?:[$€£]\s?(\d+(?:[.,]\d{1,2})?))|(\d+(?:[.,]\d{1,2})?)\s?(?:usd|eur|gbp|dollars|euros)", re.I)

_LANGUAGE_HINTS = {
    "es": re.compile(r"\b(hola|pedido|dónde|donde|gracias|por favor|mi|reembolso)\b", re.I),
    "de": re.compile(r"\b(hallo|bestellung|wo ist|danke|bitte|meine|paket)\b", re.I),
    "fr": re.compile(r"\b(bonjour|commande|où|merci|colis|ma|mon)\b", re.I),
}


@dataclass
class Extracted:
    order_numbers: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    claimed_amounts: list[str] = field(default_factory=list)
    language: str = "en"


def extract(text: str) -> Extracted:
    text = text or ""
    hits = {lang: len(p.findall(text)) for lang, p in _LANGUAGE_HINTS.items()}
    language = max(hits, key=lambda k: hits[k]) if max(hits.values(), default=0) >= 2 else "en"
    return Extracted(
        order_numbers=[m.group(1).lstrip("#") for m in _ORDER_NUMBER.finditer(text)],
        emails=_EMAIL.findall(text),
        claimed_amounts=[a or b for a, b in _AMOUNT.findall(text)],
        language=language,
    )
