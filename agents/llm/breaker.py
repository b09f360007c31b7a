"""A circuit breaker for the LLM endpoint, shared by every worker through Redis.

An endpoint that is down or too slow costs every contact its full timeout
and retries before the embedded planner takes over; at peak that backlog
is worse than the outage. After ``FAILURES`` failed calls within
``WINDOW_SECONDS`` the breaker opens: for ``OPEN_SECONDS`` the agent plans
with the embedded planner straight away. Then one contact tries the
endpoint again; a success closes the breaker. Without Redis the breaker
stays closed (each contact pays its own timeout, nothing is lost)."""

from __future__ import annotations

import contextlib
import hashlib
import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

FAILURES = 5
WINDOW_SECONDS = 60
OPEN_SECONDS = 30


def _keys(base_url: str) -> tuple[str, str]:
    tag = hashlib.sha256(base_url.encode()).hexdigest()[:16]
    return f"llm-failures:{tag}", f"llm-open:{tag}"


def is_open(base_url: str) -> bool:
    try:
        return bool(cache.get(_keys(base_url)[1]))
    except Exception:
        return False


def record_failure(base_url: str) -> bool:
    """Count a failed call; True when this one opened the breaker."""
    failures_key, open_key = _keys(base_url)
    try:
        cache.add(failures_key, 0, timeout=WINDOW_SECONDS)
        failures = cache.incr(failures_key)
        if failures >= FAILURES and cache.add(open_key, 1, timeout=OPEN_SECONDS):
            cache.delete(failures_key)
            logger.warning(
                "LLM endpoint failed %s times; embedded planner for %ss", failures, OPEN_SECONDS
            )
            return True
    except Exception:
        return False
    return False


def record_success(base_url: str) -> None:
    with contextlib.suppress(Exception):  # Redis away: nothing to reset
        cache.delete(_keys(base_url)[0])
