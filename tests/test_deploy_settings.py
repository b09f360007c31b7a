"""Production settings: refuse to start half-configured, pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-for-the-check-0123456789-abcdefgh",
    "ENCRYPTION_KEY": "x2OqQ2pbm6XPaC_Xh8zdp0rfnaUvnt1-ZpXkTYtjKW4=",
    "ALLOWED_HOSTS": "desk.example.com",
    "DATABASE_URL": "postgres://db.internal/desk",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_secret_key_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_database_url_refuses_to_start():
    env = {k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DATABASE_URL and REDIS_URL must be set" in result.stderr


def test_a_pooled_web_request_waits_seconds_not_a_proxy_timeout_for_a_connection():
    # While PostgreSQL is away no pooled connection comes free: the wait is how long
    # a person waits for the 503 that says so (bench/faults.py measures it for real).
    show = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = _manage("shell", "-c", show, **PRODUCTION, DB_POOL_MAX_SIZE="8")
    assert result.returncode == 0, result.stderr
    assert "'timeout': 5.0" in result.stdout
    longer = _manage("shell", "-c", show, **PRODUCTION, DB_POOL_MAX_SIZE="8", DB_POOL_TIMEOUT="8")
    assert "'timeout': 8.0" in longer.stdout
