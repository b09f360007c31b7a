"""LLM settings from the environment. The LLM planner runs only when LLM_BASE_URL is set."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    api_key: str
    model: str
    max_steps: int
    max_seconds: float
    max_tokens: int
    request_timeout: float
    retries: int


def configured() -> bool:
    return bool(os.environ.get("LLM_BASE_URL", "").strip())


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def load() -> LLMConfig:
    """Read on every contact, so a worker picks up a changed endpoint without a restart."""
    return LLMConfig(
        base_url=os.environ.get("LLM_BASE_URL", "").strip(),
        # Local servers (vLLM, Ollama) accept any key; the SDK insists on one.
        api_key=os.environ.get("LLM_API_KEY", "") or "not-needed",
        model=os.environ.get("LLM_MODEL", "") or "gpt-4o-mini",
        max_steps=int(_number("LLM_MAX_STEPS", 6)),
        max_seconds=_number("LLM_MAX_SECONDS", 20),
        max_tokens=int(_number("LLM_MAX_TOKENS", 12000)),
        request_timeout=_number("LLM_REQUEST_TIMEOUT", 10),
        retries=int(_number("LLM_RETRIES", 2)),
    )
