from __future__ import annotations

from django.contrib import admin

from billing.models import Contract, UsageRecord


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "currency",
        "ai_resolution_price",
        "human_resolution_price",
        "deflection_floor",
        "starts_on",
        "ends_on",
    ]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "tenant", "kind", "unit_price", "currency", "contact_ref"]
    list_filter = ["tenant", "kind"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False
