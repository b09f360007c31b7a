from __future__ import annotations

import itertools
import re
from datetime import date
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
        # Left out (or null) means the API; given, it must be one of the channels.
        if "channel" in self.data and self.data["channel"] == "":
            raise forms.ValidationError("Choose one of: " + ", ".join(Contact.Channel.values))
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
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "Sent to the customer instead of the proposed action. Leave it empty only if "
            "they were answered another way (their address bounces, you phoned them), and "
            "say how in the note."
        ),
    )
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("reply", "").strip() and not cleaned.get("note", "").strip():
            raise forms.ValidationError(
                "Write a reply, or say in the note how the customer was answered."
            )
        return cleaned


class CoApproveForm(forms.Form):
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class MessageForm(forms.Form):
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class CarrierClaimForm(forms.Form):
    opened = forms.TypedChoiceField(
        choices=[("1", "Claim filed"), ("0", "Claim answered")], coerce=lambda v: v == "1"
    )
    reference = forms.CharField(max_length=64, required=False, label="Carrier's claim number")


class ReplyForm(MessageForm):
    waiting_on_customer = forms.BooleanField(
        required=False,
        label="Waiting on the customer",
        help_text="The reply asks for something only the customer can give: "
        "SLA clocks pause until they answer.",
    )


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


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_HH_MM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _minutes(value: str) -> int:
    match = _HH_MM.match(value)
    if not match or (match[1] == "24" and match[2] != "00"):
        raise forms.ValidationError(f"“{value}” is not a time of day (HH:MM, 00:00 to 24:00).")
    return int(match[1]) * 60 + int(match[2])


def parse_hours(text: str) -> list[list[str]]:
    """'09:00-12:00, 13:00-17:00' → [["09:00", "12:00"], ["13:00", "17:00"]]; empty = closed."""
    intervals = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, sep, end = (s.strip() for s in part.partition("-"))
        if not sep:
            raise forms.ValidationError(f"“{part}” is not a range like 09:00-17:00.")
        if _minutes(start) >= _minutes(end):
            raise forms.ValidationError(f"“{part}” ends before it starts.")
        intervals.append([start, end])
    intervals.sort()
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if _minutes(start) < _minutes(end):
            raise forms.ValidationError("Ranges on one day must not overlap.")
    return intervals


class SlaPolicyForm(forms.Form):
    """One priority's targets (in minutes of business time), open hours per
    weekday in the tenant's time zone, and whole-day holidays."""

    first_response_minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 30)
    resolution_minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 90)
    decision_minutes = forms.IntegerField(
        min_value=1, max_value=60 * 24 * 30, label="Approval decision minutes"
    )
    carrier_response_minutes = forms.IntegerField(min_value=1, max_value=60 * 24 * 30)
    around_the_clock = forms.BooleanField(
        required=False, help_text="Count every hour of every day; the hours below are ignored."
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One date per line (YYYY-MM-DD); these whole days never count.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for number, name in enumerate(WEEKDAYS):
            self.fields[f"hours_{number}"] = forms.CharField(
                required=False, label=name, help_text="e.g. 09:00-17:00; empty = closed"
            )

    @classmethod
    def initial_for(cls, policy) -> dict:
        hours = policy.business_hours or {}
        return {
            "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "decision_minutes": policy.decision_minutes,
            "carrier_response_minutes": policy.carrier_response_minutes,
            "around_the_clock": not hours,
            "holidays": "\n".join(policy.holidays or []),
            **{
                f"hours_{d}": ", ".join(f"{a}-{b}" for a, b in hours.get(str(d), []))
                for d in range(7)
            },
        }

    def clean_holidays(self) -> list[str]:
        days = set()
        for line in filter(None, (x.strip() for x in self.cleaned_data["holidays"].splitlines())):
            try:
                days.add(date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(f"“{line}” is not a date (YYYY-MM-DD).") from None
        return sorted(days)

    def clean(self) -> dict:
        data = super().clean()
        hours = {}
        for d in range(7):
            try:
                intervals = parse_hours(data.get(f"hours_{d}") or "")
            except forms.ValidationError as error:
                self.add_error(f"hours_{d}", error)
                continue
            if intervals:
                hours[str(d)] = intervals
        if not data.get("around_the_clock") and not hours and not self.errors:
            raise forms.ValidationError(
                "Give open hours on at least one day, or count around the clock."
            )
        data["business_hours"] = {} if data.get("around_the_clock") else hours
        return data

    def policy_values(self) -> dict:
        data = self.cleaned_data
        return {
            "first_response_minutes": data["first_response_minutes"],
            "resolution_minutes": data["resolution_minutes"],
            "decision_minutes": data["decision_minutes"],
            "carrier_response_minutes": data["carrier_response_minutes"],
            "business_hours": data["business_hours"],
            "holidays": data["holidays"],
        }
