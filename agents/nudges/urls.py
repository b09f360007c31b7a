"""Nudge rules and the outbox report, mounted at /t/<slug>/."""

from __future__ import annotations

from django.urls import path

from agents.nudges import views

app_name = "nudges"

urlpatterns = [
    path("nudges/", views.rules, name="rules"),
    path("nudges/preview/", views.preview, name="preview"),
    path("nudges/<str:rule_id>/", views.rule, name="rule"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<str:message_id>/send-again/", views.send_nudge_again, name="send-nudge-again"),
]
