from __future__ import annotations

from django.contrib import admin

from integrations.models import Connection, Order, Refund, Shipment, WebhookEvent


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["tenant", "provider", "name", "is_active"]
    exclude = ["credentials"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "tenant", "email", "total", "currency", "placed_at"]
    search_fields = ["number", "email"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_number", "carrier", "tenant", "status", "last_event_at"]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["order", "amount", "currency", "idempotency_key", "created_at"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider", "topic", "status", "delivery_id"]
    list_filter = ["provider", "status"]
