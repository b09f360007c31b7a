"""Contract versions of a tenant: prices per resolution and the deflection floor."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing.actions import add_contract_version
from billing.models import Contract
from tenants.access import get_tenant_for_member
from tenants.actor import Actor
from tenants.roles import Permission


class ContractForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = [
            "currency",
            "ai_resolution_price",
            "human_resolution_price",
            "deflection_floor",
            "floor_credit_percent",
            "starts_on",
            "ends_on",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }


@require_http_methods(["GET", "POST"])
def contracts_page(request: HttpRequest, slug: str) -> HttpResponse:
    tenant, _ = get_tenant_for_member(request.user, slug, Permission.MANAGE_TENANT)
    form = ContractForm(request.POST or None, initial={"currency": tenant.currency})
    if request.method == "POST" and form.is_valid():
        try:
            add_contract_version(tenant, Actor.member(request.user), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Contract version added.")
            return redirect("billing:contracts", slug=tenant.slug)
    contracts = tenant.contracts.order_by("-starts_on")
    return render(
        request, "billing/contracts.html", {"tenant": tenant, "form": form, "contracts": contracts}
    )
