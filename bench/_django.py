"""Set up Django for a benchmark that needs the database."""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def production_env(**extra: str) -> dict[str, str]:
    """For a web server or worker a benchmark starts: production settings (DEBUG
    off, so no query log and no debug-only work), the same database, Redis and
    encryption key as the benchmark, plain HTTP on loopback."""
    import uuid

    from tenants.crypto import active_key

    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "ENCRYPTION_KEY": active_key(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        **extra,
    }
