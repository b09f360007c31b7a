"""Forms of the policy editor: the policy text, reordering, a sample line to try."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from agents.policy.engine import LineFacts
from agents.policy.schema import CONDITIONS, REASONS, PolicyFormatError, parse_text


class PolicyTextForm(forms.Form):
    """The whole policy as YAML: authors add, edit and reorder rules in one place."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false"}))

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        try:
            self.cleaned_data["document"] = parse_text(text)
        except PolicyFormatError as exc:
            raise forms.ValidationError([str(e) for e in exc.errors]) from exc
        return text


class MoveRuleForm(forms.Form):
    rule_id = forms.CharField(max_length=64)
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down"), ("remove", "Remove")])


class SampleLineForm(forms.Form):
    """One order line, as the agent would see it, to try against a version in place."""

    sku = forms.CharField(max_length=64)
    product_type = forms.CharField(max_length=64, required=False)
    unit_price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=3)
    quantity = forms.IntegerField(min_value=1, initial=1)
    tags = forms.CharField(required=False, help_text="Comma-separated")
    sales_channel = forms.CharField(max_length=32, initial="online_store")
    country = forms.CharField(max_length=2, required=False)
    condition = forms.ChoiceField(choices=[(c, c.replace("_", " ")) for c in CONDITIONS])
    reason = forms.ChoiceField(choices=[(r, r.replace("_", " ")) for r in REASONS])
    ordered_on = forms.DateField(required=False)
    delivered_on = forms.DateField(required=False)
    as_of = forms.DateField(required=False, help_text="Evaluate as on this day (default today)")
    is_vip = forms.BooleanField(required=False, label="VIP")
    is_final_sale = forms.BooleanField(required=False, label="Final sale")
    is_hygiene = forms.BooleanField(required=False, label="Hygiene item")
    is_gift = forms.BooleanField(required=False, label="Gift")
    is_bundle = forms.BooleanField(required=False, label="Bundle")

    def facts(self) -> tuple[LineFacts, date | None]:
        data: dict[str, Any] = self.cleaned_data
        tags = frozenset(t.strip() for t in data["tags"].split(",") if t.strip())
        facts = LineFacts(
            sku=data["sku"],
            unit_price=data["unit_price"],
            quantity=data["quantity"],
            product_type=data["product_type"],
            tags=tags,
            sales_channel=data["sales_channel"],
            country=data["country"],
            is_vip=data["is_vip"],
            ordered_at=data["ordered_on"],
            delivered_at=data["delivered_on"],
            condition=data["condition"],
            reason=data["reason"],
            is_final_sale=data["is_final_sale"],
            is_hygiene=data["is_hygiene"],
            is_gift=data["is_gift"],
            is_bundle=data["is_bundle"],
        )
        return facts, data["as_of"]
