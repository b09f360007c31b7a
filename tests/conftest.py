"""Shared fixtures: a real Celery worker, an ASGI live server, a browser."""

from __future__ import annotations

import socket
import threading
import time

import pytest


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (thread pool) consuming the real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from desk.celery import app

    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        loglevel="WARNING",
        queues=["agents", "actions", "nudges", "sla", "intake"],
        shutdown_timeout=10,
    ) as worker:
        yield worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db):
    """The real ASGI app (HTTP + websockets) under uvicorn on a free local port."""
    import uvicorn

    from desk.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {predicate}")


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Worker and server threads may still hold a connection when the session
    ends; end them so the test database can be dropped."""
    yield
    from django.db import OperationalError, connection

    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    except OperationalError:
        # A run whose tests never touched the database may have no database to
        # reach; then no thread holds a connection either.
        pass
