"""The onboarding simulator, mounted at /t/<slug>/simulator/."""

from __future__ import annotations

from django.urls import path

from agents.simulator import views

app_name = "simulator"

urlpatterns = [
    path("", views.simulator_page, name="page"),
    path("sample.csv", views.sample_csv, name="sample"),
    path("<str:simulation_id>/", views.simulation_page, name="run"),
    path("<str:simulation_id>/rerun/", views.rerun, name="rerun"),
]
