from __future__ import annotations

from django.contrib import admin

from billing.models import Contract, Statement, UsageRecord


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "currency",
        "ai_resolution_price",
        "human_resolution_price",
        "deflection_floor",
        "floor_credit_percent",
        "starts_on",
        "ends_on",
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger and frozen statements are never edited or deleted (the database
    rejects it for the ledger); the admin only reads them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "tenant", "kind", "unit_price", "currency", "contact_ref"]
    list_filter = ["tenant", "kind"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = [
        "tenant",
        "month",
        "ai_count",
        "human_count",
        "floor_credit",
        "total",
        "frozen_at",
    ]
    list_filter = ["tenant"]
