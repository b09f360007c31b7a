"""LLM settings from the environment. The LLM planner runs only when LLM_BASE_URL is set."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from decimal import Decimal

logger = logging.getLogger(__name__)

# USD per million input and output tokens, as the vendors list them. LLM_PRICES
# (JSON, e.g. {"my-model": {"input": 0.2, "output": 0.8}}) adds models or replaces
# these; a model without a price costs nothing in our accounting.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"input": 0.15, "output": 0.60},
    "gpt-4o": {"input": 2.50, "output": 10.00},
}
MILLION = Decimal(1_000_000)


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


def prices() -> dict[str, dict[str, float]]:
    table = dict(DEFAULT_PRICES)
    raw = os.environ.get("LLM_PRICES", "").strip()
    if raw:
        try:
            extra = json.loads(raw)
            table.update(
                {
                    str(model): {"input": float(p["input"]), "output": float(p["output"])}
                    for model, p in extra.items()
                }
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("LLM_PRICES is not a JSON table of input/output prices; ignored")
    return table


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """What one request cost in USD at the model's list price (0 when unknown)."""
    price = prices().get(model)
    if price is None:
        return Decimal("0")
    cost = (
        prompt_tokens * Decimal(str(price["input"]))
        + completion_tokens * Decimal(str(price["output"]))
    ) / MILLION
    return cost.quantize(Decimal("0.000001"))
