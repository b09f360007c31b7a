"""Input validation for the billing and staffing pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms


def parse_month(value: str) -> date | None:
    """``YYYY-MM`` → the first day of that month, or None if it is not one."""
    try:
        year, month = (int(part) for part in value.split("-", 1))
        return date(year, month, 1)
    except ValueError:
        return None


class StaffingForm(forms.Form):
    """One interval's forecast and service target. Defaults are the published
    Erlang C reference case."""

    arrivals = forms.IntegerField(min_value=0, max_value=1_000_000, initial=100)
    interval_minutes = forms.IntegerField(min_value=1, max_value=1440, initial=30)
    handle_seconds = forms.IntegerField(min_value=1, max_value=36_000, initial=180)
    target_seconds = forms.IntegerField(min_value=0, max_value=3600, initial=20)
    service_level_percent = forms.DecimalField(
        min_value=Decimal("1"), max_value=Decimal("99.9"), decimal_places=1, initial=80
    )
    shrinkage_percent = forms.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("90"), decimal_places=1, initial=30
    )

    @classmethod
    def defaults(cls) -> dict:
        return {name: field.initial for name, field in cls.base_fields.items()}
