from __future__ import annotations

from django.urls import path

from integrations import webhooks

app_name = "webhooks"

urlpatterns = [
    path("<str:provider>/<str:connection_id>", webhooks.receive, name="receive"),
]
