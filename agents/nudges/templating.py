"""``{{ variable }}`` templates for nudges: plain substitution, no logic, no attribute access.

Merchants write these; a template language with lookups or filters would let a
typo reach into objects. Unknown variables are refused when the rule is saved."""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

VARIABLES: dict[str, str] = {
    "customer_name": "The customer's name (or 'there')",
    "first_name": "The customer's first name (or 'there')",
    "order_number": "Order number as the customer sees it",
    "carrier": "Carrier code, e.g. ups",
    "tracking_number": "Tracking number",
    "status": "Shipment status, in words",
    "substatus": "Substatus, in words",
    "estimated_delivery": "Estimated delivery date",
    "location": "Where the last scan happened",
    "merchant": "The merchant's name",
    "refund_amount": "Amount refunded, with currency",
}


def unknown_variables(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text or "") if name not in VARIABLES})


def render(text: str, variables: dict[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: str(variables.get(m.group(1), "") or ""), text or "")


def pick_locale(templates: dict[str, dict], wanted: list[str]) -> str:
    """The best template locale for the customer: exact, then language, then the first."""
    if not templates:
        return ""
    for locale in wanted:
        if not locale:
            continue
        if locale in templates:
            return locale
        language = locale.replace("_", "-").split("-")[0].lower()
        for available in templates:
            if available.replace("_", "-").split("-")[0].lower() == language:
                return available
    return next(iter(templates))
