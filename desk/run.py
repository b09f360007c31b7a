"""`make run`: everything up on one machine with readable, interleaved logs.

Starts the private PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset,
migrates, seeds the demo (idempotent), then runs the ASGI server (HTTP and
websockets), a Celery worker, beat and the demo simulator. Ctrl-C stops all,
and the private services this run started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _announce_when_healthy(port: str, env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                body = json.loads(response.read())
                if body.get("status") == "ok":
                    break
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(1)
    subprocess.run([PYTHON, "manage.py", "demo_info"], cwd=BASE_DIR, env=env, check=False)


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    port = os.environ.setdefault("PORT", "8000")
    started = None
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.path.insert(0, str(BASE_DIR))
        from desk import embedded

        try:
            started = embedded.ensure_running()
        except embedded.EmbeddedServiceError as exc:
            print(f"Cannot start: {exc}", file=sys.stderr)
            return 1
        os.environ.setdefault("DATABASE_URL", started.database_url)
        os.environ.setdefault("REDIS_URL", started.redis_url)
        print(f"Embedded PostgreSQL and Redis are running under {embedded.VAR_DIR}")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        _manage("migrate", "--noinput", env=env)
        _manage("seed_demo", env=env)

        from honcho.manager import Manager

        manager = Manager()
        bin_dir = Path(PYTHON).parent
        manager.add_process(
            "web",
            f"{bin_dir / 'uvicorn'} desk.asgi:application --host 127.0.0.1 --port {port} --no-access-log",
            env={**env, "DB_POOL_MAX_SIZE": env.get("DB_POOL_MAX_SIZE", "10")},
            cwd=str(BASE_DIR),
        )
        # Workers keep their threads, so persistent connections pay off there.
        worker_env = {**env, "DB_CONN_MAX_AGE": env.get("DB_CONN_MAX_AGE", "60")}
        manager.add_process(
            "worker",
            f"{bin_dir / 'celery'} -A desk worker -Q agents,actions,nudges,sla,intake "
            "--loglevel INFO --without-mingle --without-gossip",
            env=worker_env,
            cwd=str(BASE_DIR),
        )
        manager.add_process(
            "beat", f"{bin_dir / 'celery'} -A desk beat --loglevel INFO", env=env, cwd=str(BASE_DIR)
        )
        interval = os.environ.get("DEMO_SIMULATOR_INTERVAL", "6")
        if interval != "0":
            manager.add_process(
                "simulator",
                f"{PYTHON} manage.py simulate --interval {interval}",
                env=env,
                cwd=str(BASE_DIR),
            )
        threading.Thread(target=_announce_when_healthy, args=(port, env), daemon=True).start()
        manager.loop()
        return manager.returncode or 0
    except subprocess.CalledProcessError as exc:
        print(f"Set-up step failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if started is not None:
            from desk import embedded

            embedded.stop(started)
            print("Embedded services stopped.")


if __name__ == "__main__":
    sys.exit(main())
