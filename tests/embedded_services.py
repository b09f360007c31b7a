"""Pytest plugin loaded before Django: isolates a test run from a running desk.

The settings start the private PostgreSQL/Redis when DATABASE_URL/REDIS_URL are
unset (the same code path as `make run`); this plugin gives the run its own
Redis key space and stops at the end whatever the run itself started."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("REDIS_KEY_PREFIX", f"test{os.getpid()}")
# Close connections after each unit of work so threads (websocket consumers,
# the worker) never keep a test database open at teardown.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")  # also the default; kept explicit


def pytest_unconfigure(config) -> None:
    import sys

    settings_module = sys.modules.get("desk.settings")
    started = getattr(settings_module, "_embedded", None)
    if started is not None and (started.started_postgres or started.started_redis):
        from desk import embedded

        embedded.stop(started)
