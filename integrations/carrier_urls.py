from __future__ import annotations

from django.urls import path

from integrations import carrier_views

app_name = "carriers"

urlpatterns = [path("unmapped/", carrier_views.unmapped, name="unmapped")]
