from __future__ import annotations

from django.urls import path

from agents import trace_views

app_name = "agents"

urlpatterns = [path("", trace_views.trace_page, name="trace")]
