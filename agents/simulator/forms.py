"""The simulator's upload form: the export and the proposed contract."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from agents.simulator import tickets
from billing.actions import NoContract, contract_in_force
from billing.models import Contract
from tenants.models import Tenant

# Typical figures for a merchant with no contract yet (the middle of the price bands we sell).
TYPICAL = {
    "ai_resolution_price": Decimal("1.40"),
    "human_resolution_price": Decimal("5.20"),
    "deflection_floor_percent": Decimal("70"),
}


def proposed_contract(tenant: Tenant) -> dict[str, object]:
    """Form defaults: the contract version in force, else the latest one, else typical figures."""
    try:
        contract: Contract | None = contract_in_force(tenant, timezone.now())
    except NoContract:
        contract = Contract.objects.filter(tenant=tenant).order_by("-starts_on").first()
    if contract is None:
        return {"currency": tenant.currency, **TYPICAL}
    return {
        "currency": contract.currency,
        "ai_resolution_price": contract.ai_resolution_price,
        "human_resolution_price": contract.human_resolution_price,
        "deflection_floor_percent": (contract.deflection_floor * 100).quantize(Decimal("0.1")),
    }


class SimulationForm(forms.Form):
    tickets = forms.FileField(
        label="Ticket export (CSV)",
        help_text=f"Up to {tickets.MAX_ROWS:,} tickets and {tickets.MAX_BYTES // 1024 // 1024} MB.",
    )
    currency = forms.CharField(min_length=3, max_length=3)
    ai_resolution_price = forms.DecimalField(
        label="Price per AI-resolved contact", min_value=0, max_digits=8, decimal_places=2
    )
    human_resolution_price = forms.DecimalField(
        label="Price per human-resolved contact", min_value=0, max_digits=8, decimal_places=2
    )
    deflection_floor_percent = forms.DecimalField(
        label="Deflection floor (%)", min_value=0, max_value=100, max_digits=4, decimal_places=1
    )
    monthly_volume = forms.IntegerField(
        label="Contacts a month (optional)",
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text="Leave empty to scale the file's tickets to a month by its dates.",
    )

    def __init__(self, tenant: Tenant, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.csv_text = ""

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].upper()

    def clean_tickets(self):
        upload = self.cleaned_data["tickets"]
        if upload.size > tickets.MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{tickets.MAX_BYTES // 1024 // 1024} MB. Split it and run the parts."
            )
        try:
            text = tickets.decode(upload.read())
            tickets.read(text, ZoneInfo(self.tenant.time_zone))
        except tickets.FileRefused as exc:
            raise forms.ValidationError(str(exc)) from exc
        self.csv_text = text
        return upload
