from __future__ import annotations

import zoneinfo

from django import forms

from tenants.models import Tenant
from tenants.roles import Role

TIME_ZONES = sorted(zoneinfo.available_timezones())


class TenantForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=[(z, z) for z in TIME_ZONES], initial="UTC")

    class Meta:
        model = Tenant
        fields = ["name", "slug", "time_zone", "currency", "locale"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug in {"new"}:
            raise forms.ValidationError("That name is reserved; pick another slug.")
        return slug

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code, e.g. USD.")
        return currency


class AutonomyForm(forms.ModelForm):
    """What the agent may do alone, and how far a specialist may go."""

    auto_action_kinds = forms.MultipleChoiceField(
        choices=[
            ("reply", "Reply only"),
            ("refund", "Refund"),
            ("return_label", "Return label"),
            ("replacement", "Replacement"),
            ("cancel_order", "Cancel an unshipped order"),
            ("store_credit", "Store credit the returns policy grants"),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Kinds the agent may execute without a human.",
    )
    reply_languages = forms.MultipleChoiceField(
        choices=[
            ("en", "English"),
            ("es", "Spanish"),
            ("de", "German"),
            ("fr", "French"),
            ("it", "Italian"),
            ("pt", "Portuguese"),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The agent answers customers who write in one of these in their language; "
        "everyone else in the store's language.",
    )

    class Meta:
        model = Tenant
        fields = [
            "auto_refund_limit",
            "daily_auto_refund_cap",
            "confidence_threshold",
            "specialist_approval_limit",
            "decision_sla_hours",
            "auto_action_kinds",
            "reply_languages",
            "qa_sample_percent",
            "csat_survey_delay_hours",
            "holding_message",
        ]
        widgets = {"holding_message": forms.Textarea(attrs={"rows": 3})}
        labels = {"csat_survey_delay_hours": "Satisfaction survey delay (hours)"}
        help_texts = {
            "csat_survey_delay_hours": "How long after a resolution the customer is asked "
            "to rate it, up to a week; a contact that reopens meanwhile is not asked. "
            "0 sends the survey with the answer."
        }

    def clean_confidence_threshold(self):
        value = self.cleaned_data["confidence_threshold"]
        if not 0 <= value <= 1:
            raise forms.ValidationError("Between 0 and 1.")
        return value


class InviteForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=[(r, label) for r, label in Role.choices if r != Role.ADMIN])


class RoleForm(forms.Form):
    membership = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80)


class AuditFilterForm(forms.Form):
    verb = forms.CharField(required=False, max_length=64)
    actor = forms.CharField(required=False, max_length=120)


class RetentionForm(forms.ModelForm):
    """How long the desk keeps what it no longer needs, per merchant."""

    prefix = "retention"

    class Meta:
        model = Tenant
        fields = [
            "personal_data_retention_days",
            "webhook_payload_retention_days",
            "agent_trace_retention_days",
        ]
        labels = {
            "personal_data_retention_days": "Personal data of resolved contacts (days)",
            "webhook_payload_retention_days": "Raw webhook payloads (days)",
            "agent_trace_retention_days": "Agent trace inputs and outputs (days)",
        }
        help_texts = {
            "personal_data_retention_days": "Counted from resolution; at least 30. "
            "The customer's name, address, subject and messages are then anonymised.",
            "webhook_payload_retention_days": "Bodies and headers are blanked; the "
            "delivery record stays.",
            "agent_trace_retention_days": "Steps and tool arguments/results are "
            "blanked; tokens, latency and outcome stay.",
        }
