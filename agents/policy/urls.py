"""The policy editor, mounted at /t/<slug>/policy/."""

from __future__ import annotations

from django.urls import path

from agents.policy import views

app_name = "policy"

urlpatterns = [
    path("", views.policy_page, name="page"),
    path("drafts/", views.new_draft, name="new-draft"),
    path("diff/", views.diff, name="diff"),
    path("versions/<str:version_id>/", views.version_page, name="version"),
    path("versions/<str:version_id>/save/", views.save_draft, name="save"),
    path("versions/<str:version_id>/rules/", views.change_rule, name="change-rule"),
    path("versions/<str:version_id>/publish/", views.publish, name="publish"),
    path("versions/<str:version_id>/try/", views.try_line, name="try"),
    path("versions/<str:version_id>/backtest/", views.backtest_start, name="backtest-start"),
    path("backtests/<str:backtest_id>/", views.backtest_page, name="backtest"),
]
