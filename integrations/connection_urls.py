from __future__ import annotations

from django.urls import path

from integrations import connection_views

app_name = "connections"

urlpatterns = [
    path("", connection_views.connections_page, name="page"),
    path("<str:connection_id>/test/", connection_views.test_connection, name="test"),
]
