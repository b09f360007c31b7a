"""The project's URLs plus the policy editor, mounted where the project will mount it."""

from __future__ import annotations

from django.urls import include, path

from desk.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("t/<slug:slug>/policy/", include("agents.policy.urls")),
    *project_urlpatterns,
]
