"""A task that kills the worker process running it, every time: a poison
message, loaded only into the chaos benchmark's worker (``-I``)."""

from __future__ import annotations

import os
import signal

from desk.celery import app


@app.task(name="bench.poison")
def poison(*, label: str) -> None:
    os.kill(os.getpid(), signal.SIGKILL)
