from __future__ import annotations

from django import forms

from desk.models import Contact, Decision


class ContactIntakeForm(forms.Form):
    """The JSON body of POST /api/v1/contacts."""

    channel = forms.ChoiceField(choices=Contact.Channel.choices, required=False)
    customer_email = forms.EmailField(max_length=254)
    customer_name = forms.CharField(max_length=160, required=False)
    order_number = forms.CharField(max_length=64, required=False)
    subject = forms.CharField(max_length=255, required=False)
    body = forms.CharField(max_length=20000)

    def clean_channel(self) -> str:
        return self.cleaned_data.get("channel") or Contact.Channel.API


APPROVE_REASONS = [
    (Decision.Reason.POLICY_OK, Decision.Reason.POLICY_OK.label),
    (Decision.Reason.GOODWILL, Decision.Reason.GOODWILL.label),
]
REJECT_REASONS = [
    (r, label)
    for r, label in Decision.Reason.choices
    if r not in {Decision.Reason.POLICY_OK, Decision.Reason.GOODWILL}
]


class ApproveForm(forms.Form):
    reason_code = forms.ChoiceField(choices=APPROVE_REASONS, initial=Decision.Reason.POLICY_OK)
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(choices=REJECT_REASONS)
    reply = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent to the customer instead of the proposed action.",
    )
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
