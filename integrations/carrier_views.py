"""Platform staff pages about the carrier layer itself, across every merchant."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from integrations import queries
from integrations.actions import map_carrier_code
from integrations.carriers.registry import CARRIERS
from integrations.carriers.schema import Substatus
from integrations.models import CarrierCodeOverride, TrackingStatus
from tenants.access import tenants_where
from tenants.actor import Actor
from tenants.roles import Permission


class MapCodeForm(forms.Form):
    carrier = forms.ChoiceField(choices=[(c.code, c.name) for c in CARRIERS])
    code = forms.CharField(max_length=32)
    status = forms.ChoiceField(choices=TrackingStatus.choices)
    substatus = forms.ChoiceField(choices=[("", "—"), *Substatus.choices], required=False)


def _require_carrier_mapper(request: HttpRequest) -> None:
    user = request.user
    if user.is_staff:
        return
    if not tenants_where(user, Permission.MAP_CARRIER_CODES):
        raise PermissionDenied("Mapping carrier codes is for platform admins")


def unmapped(request: HttpRequest) -> HttpResponse:
    """Carrier codes our mappings did not know, and a form to give each our status."""
    _require_carrier_mapper(request)
    form = MapCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        map_carrier_code(
            Actor.member(request.user),
            carrier=data["carrier"],
            code=data["code"],
            status=data["status"],
            substatus=data["substatus"],
        )
        messages.success(
            request,
            f"{data['carrier']} {data['code']} now reads as {data['status']}; "
            "stored scans are being updated.",
        )
        return redirect("carriers:unmapped")
    context = {
        "rows": queries.unmapped_codes(),
        "overrides": CarrierCodeOverride.objects.select_related("created_by").order_by(
            "-updated_at"
        )[:100],
        "form": form,
        "statuses": TrackingStatus.choices,
        "substatuses": Substatus.choices,
    }
    return render(request, "integrations/unmapped_codes.html", context)
