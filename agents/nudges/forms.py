"""The rule editor's form: channels in order, templates per locale, limits."""

from __future__ import annotations

from django import forms

from agents.nudges import templating
from agents.nudges.models import NudgeRule
from integrations.carriers.schema import Substatus
from integrations.messaging.models import Channel


class NudgeRuleForm(forms.ModelForm):
    substatuses = forms.MultipleChoiceField(
        choices=Substatus.choices,
        required=False,
        help_text="Exception rules only; none selected means every exception.",
    )
    channels = forms.CharField(
        initial="email",
        help_text="In order of preference, comma separated: email, sms, whatsapp.",
    )
    templates = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        help_text='Per locale: {"en": {"subject": "…", "body": "…", "whatsapp_template": "…", '
        '"whatsapp_language": "en_US", "whatsapp_params": ["first_name"]}}',
    )

    class Meta:
        model = NudgeRule
        fields = [
            "name",
            "trigger",
            "substatuses",
            "delay_days",
            "channels",
            "templates",
            "quiet_start",
            "quiet_end",
            "cap_count",
            "cap_hours",
            "suppress_while_contact_open",
            "is_active",
        ]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.channels, list):
            self.initial["channels"] = ", ".join(self.instance.channels)

    def clean_channels(self) -> list[str]:
        names = [c.strip().lower() for c in self.cleaned_data["channels"].split(",") if c.strip()]
        unknown = [n for n in names if n not in Channel.values]
        if unknown:
            raise forms.ValidationError(f"Unknown channel(s): {', '.join(unknown)}")
        if not names:
            raise forms.ValidationError("Give at least one channel.")
        return list(dict.fromkeys(names))

    def clean_templates(self) -> dict:
        templates = self.cleaned_data["templates"]
        if not isinstance(templates, dict) or not templates:
            raise forms.ValidationError('Give at least one locale, e.g. {"en": {"body": "…"}}.')
        errors = []
        for locale, template in templates.items():
            if not isinstance(template, dict) or not str(template.get("body", "")).strip():
                errors.append(f"{locale}: needs a body")
                continue
            for field in ("subject", "body"):
                unknown = templating.unknown_variables(str(template.get(field, "")))
                if unknown:
                    errors.append(f"{locale}.{field}: unknown variable(s) {', '.join(unknown)}")
            params = template.get("whatsapp_params", [])
            bad = (
                [p for p in params if p not in templating.VARIABLES]
                if isinstance(params, list)
                else ["?"]
            )
            if bad:
                errors.append(f"{locale}.whatsapp_params: unknown variable(s) {', '.join(bad)}")
        if errors:
            raise forms.ValidationError(errors)
        return templates
