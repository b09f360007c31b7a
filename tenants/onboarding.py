"""The go-live checklist. Each app registers the steps it owns (in its AppConfig.ready),
so tenants never imports the apps built on top of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenants.models import Tenant


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    is_done: Callable[[Tenant], bool]
    url_name: str  # where to do it; reversed with the tenant's slug
    order: int = 50
    # Shown on the checklist as a recommendation; going live does not wait for it.
    optional: bool = False


@dataclass(frozen=True)
class StepState:
    step: Step
    done: bool


_STEPS: dict[str, Step] = {}


def register(step: Step) -> None:
    _STEPS[step.key] = step


def checklist(tenant: Tenant) -> list[StepState]:
    return [
        StepState(step, bool(step.is_done(tenant)))
        for step in sorted(_STEPS.values(), key=lambda s: s.order)
    ]


def missing(tenant: Tenant) -> list[Step]:
    return [state.step for state in checklist(tenant) if not state.done and not state.step.optional]
