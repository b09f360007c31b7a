"""While PostgreSQL or Redis is away, people get a page that says so, not a bare 500."""

from __future__ import annotations

import json
import socket

import psycopg
import pytest
import redis
from django.db import OperationalError
from django.test import RequestFactory

from desk import outage
from tenants.roles import Role
from tests.factories import make_member, make_tenant


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answer_while_failing(path: str, error: BaseException):
    request = RequestFactory().get(path)
    try:
        raise error
    except BaseException:
        return outage.handler500(request)


def _database_error() -> OperationalError:
    """The error Django raises when PostgreSQL does not answer (a real one)."""
    try:
        psycopg.connect(host="127.0.0.1", port=_closed_port(), connect_timeout=2)
    except psycopg.OperationalError as exc:
        try:
            raise OperationalError(str(exc)) from exc
        except OperationalError as wrapped:
            return wrapped
    raise AssertionError("a closed port accepted a connection")


def test_a_page_failing_for_the_database_answers_503_that_retries_by_itself():
    response = _answer_while_failing("/inbox/", _database_error())
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "reconnecting to its database" in body
    assert 'http-equiv="refresh"' in body


def test_the_api_failing_for_the_database_says_to_resend_with_the_same_key():
    response = _answer_while_failing("/api/v1/contacts", _database_error())
    assert response.status_code == 503
    assert "Idempotency-Key" in json.loads(response.content)["error"]


def test_redis_unreachable_is_a_queue_outage():
    client = redis.Redis(host="127.0.0.1", port=_closed_port(), socket_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        response = _answer_while_failing("/inbox/", exc)
    assert response.status_code == 503
    assert "reconnecting to its queue" in response.content.decode()


def test_any_other_error_is_still_a_plain_server_error(db):
    response = _answer_while_failing("/inbox/", ZeroDivisionError("bug"))
    assert response.status_code == 500


@pytest.mark.django_db
def test_pages_carry_a_banner_while_the_queue_is_away(client, settings, monkeypatch):
    member = make_member(make_tenant(), Role.SPECIALIST)
    client.force_login(member)
    reachable = settings.REDIS_URL
    monkeypatch.setattr(outage, "_redis_checked_at", 0.0)
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    page = client.get("/t/")
    assert page.status_code == 200
    assert "Live updates and background work are paused" in page.content.decode()

    monkeypatch.setattr(outage, "_redis_checked_at", 0.0)
    settings.REDIS_URL = reachable
    assert "Live updates" not in client.get("/t/").content.decode()
