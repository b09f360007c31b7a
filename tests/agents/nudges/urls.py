"""The project's URLs plus the nudge pages, mounted where the project will mount them."""

from __future__ import annotations

from django.urls import include, path

from desk.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("t/<slug:slug>/", include("agents.nudges.urls")),
    *project_urlpatterns,
]
