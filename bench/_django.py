"""Set up Django for a benchmark that needs the database."""

from __future__ import annotations

import os


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
