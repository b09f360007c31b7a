from __future__ import annotations

import pytest


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_database_redis_and_worker(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["worker"]["ok"] and body["worker"]["workers"]
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_healthz_without_a_worker_is_degraded_but_serving(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"]["ok"] is False


def test_healthz_needs_no_login(client, db):
    assert client.get("/healthz").status_code == 200
