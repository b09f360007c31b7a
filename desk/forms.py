from __future__ import annotations

from decimal import Decimal

from django import forms

from desk.models import Contact, Decision, Intent, Proposal


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
    (Decision.Reason.WRONG_ACTION, "Proposal corrected"),
]
REJECT_REASONS = [
    (r, label)
    for r, label in Decision.Reason.choices
    if r not in {Decision.Reason.POLICY_OK, Decision.Reason.GOODWILL}
]
DECIDABLE_KINDS = [(Proposal.Kind.REFUND, "Refund"), (Proposal.Kind.REPLY, "Reply only")]


class ApproveForm(forms.Form):
    """Approve as proposed, or edit the amount / override the kind first."""

    kind = forms.ChoiceField(choices=DECIDABLE_KINDS, required=False)
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
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


class CoApproveForm(forms.Form):
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MessageForm(forms.Form):
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class ReassignForm(forms.Form):
    to = forms.EmailField()


AMOUNT_BANDS = {
    "under-50": (None, Decimal("50")),
    "50-200": (Decimal("50"), Decimal("200")),
    "200-500": (Decimal("200"), Decimal("500")),
    "over-500": (Decimal("500"), None),
}
AGE_LIMITS = {"1h": 1, "4h": 4, "24h": 24}


class InboxFilterForm(forms.Form):
    """The inbox's filters, all optional; invalid values are ignored, not errors."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    tenant = forms.SlugField(required=False)
    intent = forms.ChoiceField(choices=[("", "Any intent"), *Intent.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any proposal"), *Proposal.Kind.choices], required=False)
    band = forms.ChoiceField(
        choices=[("", "Any amount"), *[(k, k.replace("-", "–")) for k in AMOUNT_BANDS]],
        required=False,
        label="Amount",
    )
    risk = forms.BooleanField(required=False, label="Risk flag")
    vip = forms.BooleanField(required=False, label="VIP")
    age = forms.ChoiceField(
        choices=[
            ("", "Any age"),
            ("1h", "Older than 1 h"),
            ("4h", "Older than 4 h"),
            ("24h", "Older than 24 h"),
        ],
        required=False,
    )
    scope = forms.ChoiceField(
        choices=[
            ("", "Everyone's"),
            ("mine", "Mine"),
            ("unassigned", "Unassigned"),
            ("lead", "Awaiting a lead"),
        ],
        required=False,
    )
    after = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)


class MacroForm(forms.Form):
    name = forms.CharField(max_length=80)
    body = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Variables: {customer_name} {order_number} {tracking_number} {carrier} {merchant}",
    )


class QaVerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=[("correct", "Correct"), ("incorrect", "Should not have been done")]
    )
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
