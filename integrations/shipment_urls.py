from __future__ import annotations

from django.urls import path

from integrations import shipment_views

app_name = "shipments"

urlpatterns = [path("problems/", shipment_views.problems, name="problems")]
