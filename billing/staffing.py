"""Staffing the Tier-2 pod with Erlang C: pure functions, no Django.

Erlang C models a queue of contacts served by N interchangeable specialists,
with random (Poisson) arrivals and exponential handle times, where a waiting
customer stays in the queue. For one interval:

- traffic ``A = arrivals × handle time / interval`` (in Erlangs),
- probability of waiting ``C(N, A)``,
- service level ``1 − C(N, A) · exp(−(N − A) · target answer time / handle time)``,
- occupancy ``A / N``.

The probability of waiting is computed through the Erlang B recursion, which
stays exact for hundreds of agents where factorials would overflow.
Shrinkage (breaks, training, absence) grosses the agents needed on the phones
up to the agents to schedule: ``N / (1 − shrinkage)``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PEAK_MULTIPLIERS = (1, 3, 4, 5)
MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Staffing:
    """What ``agents`` specialists on the phones achieve for one interval."""

    agents: int
    traffic: float
    probability_of_waiting: float
    service_level: float
    occupancy: float
    average_speed_of_answer: float
    scheduled: int

    def rounded(self) -> dict[str, float | int]:
        return {
            "agents": self.agents,
            "scheduled": self.scheduled,
            "service_level": round(self.service_level, 3),
            "occupancy": round(self.occupancy, 3),
            "probability_of_waiting": round(self.probability_of_waiting, 3),
            "average_speed_of_answer": round(self.average_speed_of_answer, 1),
        }


def traffic_intensity(arrivals: float, handle_seconds: float, interval_seconds: float) -> float:
    """Offered load in Erlangs: how many specialists the work would keep busy full time."""
    if arrivals < 0 or handle_seconds <= 0 or interval_seconds <= 0:
        raise ValueError("arrivals must be ≥ 0, handle time and interval > 0")
    return arrivals * handle_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability with ``agents`` servers, by the stable recursion
    B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def probability_of_waiting(agents: int, traffic: float) -> float:
    """Erlang C: the chance a contact waits at all. 1 when the agents cannot keep up."""
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(
    agents: int, traffic: float, handle_seconds: float, target_seconds: float
) -> float:
    """Share of contacts answered within ``target_seconds``."""
    if agents <= traffic:
        return 0.0
    waiting = probability_of_waiting(agents, traffic)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def occupancy(agents: int, traffic: float) -> float:
    """Share of their time the specialists spend handling contacts (capped at 1)."""
    return min(1.0, traffic / agents) if agents else 1.0


def average_speed_of_answer(agents: int, traffic: float, handle_seconds: float) -> float:
    if agents <= traffic:
        return math.inf
    return probability_of_waiting(agents, traffic) * handle_seconds / (agents - traffic)


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """Specialists to schedule so that ``agents`` are available after shrinkage."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage is a share in [0, 1)")
    # Round before ceil: 14 / 0.7 is 20.000000000000004 in binary floating point.
    return math.ceil(round(agents / (1 - shrinkage), 9))


def evaluate(
    agents: int,
    *,
    arrivals: float,
    handle_seconds: float,
    interval_seconds: float,
    target_seconds: float,
    shrinkage: float = 0.0,
) -> Staffing:
    """Service level, occupancy and waiting of a given number of agents."""
    traffic = traffic_intensity(arrivals, handle_seconds, interval_seconds)
    return Staffing(
        agents=agents,
        traffic=traffic,
        probability_of_waiting=probability_of_waiting(agents, traffic),
        service_level=service_level(agents, traffic, handle_seconds, target_seconds),
        occupancy=occupancy(agents, traffic),
        average_speed_of_answer=average_speed_of_answer(agents, traffic, handle_seconds),
        scheduled=with_shrinkage(agents, shrinkage),
    )


def agents_needed(
    *,
    arrivals: float,
    handle_seconds: float,
    interval_seconds: float,
    target_seconds: float,
    target_service_level: float,
    shrinkage: float = 0.0,
    max_occupancy: float = 1.0,
) -> Staffing:
    """The fewest agents reaching ``target_service_level`` (and at most
    ``max_occupancy``), with the head count to schedule after shrinkage."""
    if not 0 < target_service_level < 1:
        raise ValueError("target service level is a share in (0, 1)")
    if not 0 < max_occupancy <= 1:
        raise ValueError("max occupancy is a share in (0, 1]")
    traffic = traffic_intensity(arrivals, handle_seconds, interval_seconds)
    if traffic == 0:
        return evaluate(
            0,
            arrivals=0,
            handle_seconds=handle_seconds,
            interval_seconds=interval_seconds,
            target_seconds=target_seconds,
            shrinkage=shrinkage,
        )
    agents = max(1, math.floor(traffic) + 1)
    while agents <= MAX_AGENTS:
        if (
            service_level(agents, traffic, handle_seconds, target_seconds) >= target_service_level
            and traffic / agents <= max_occupancy
        ):
            return evaluate(
                agents,
                arrivals=arrivals,
                handle_seconds=handle_seconds,
                interval_seconds=interval_seconds,
                target_seconds=target_seconds,
                shrinkage=shrinkage,
            )
        agents += 1
    raise ValueError("more than 100,000 agents needed: check the inputs")


@dataclass(frozen=True)
class PeakRow:
    multiplier: float
    arrivals: float
    staffing: Staffing


def peak_plan(
    *,
    arrivals: float,
    handle_seconds: float,
    interval_seconds: float,
    target_seconds: float,
    target_service_level: float,
    shrinkage: float = 0.0,
    multipliers: Iterable[float] = PEAK_MULTIPLIERS,
) -> list[PeakRow]:
    """Agents needed at normal volume and at peak multiples of it (3-5× for the
    holiday season and sale days)."""
    return [
        PeakRow(
            multiplier=m,
            arrivals=arrivals * m,
            staffing=agents_needed(
                arrivals=arrivals * m,
                handle_seconds=handle_seconds,
                interval_seconds=interval_seconds,
                target_seconds=target_seconds,
                target_service_level=target_service_level,
                shrinkage=shrinkage,
            ),
        )
        for m in multipliers
    ]


@dataclass(frozen=True)
class ShiftPlan:
    name: str
    hours: tuple[int, ...]
    per_hour: tuple[Staffing, ...]

    @property
    def agents(self) -> int:
        """A shift is staffed for its busiest hour."""
        return max((s.agents for s in self.per_hour), default=0)

    @property
    def scheduled(self) -> int:
        return max((s.scheduled for s in self.per_hour), default=0)


def shift_plan(
    hourly_arrivals: Sequence[float],
    shifts: dict[str, Sequence[int]],
    *,
    handle_seconds: float,
    target_seconds: float,
    target_service_level: float,
    shrinkage: float = 0.0,
) -> list[ShiftPlan]:
    """Specialists per shift from a forecast of contacts per hour of the day
    (``hourly_arrivals[h]`` for hour ``h``); ``shifts`` maps a name to its hours."""
    per_hour = [
        agents_needed(
            arrivals=volume,
            handle_seconds=handle_seconds,
            interval_seconds=3600,
            target_seconds=target_seconds,
            target_service_level=target_service_level,
            shrinkage=shrinkage,
        )
        for volume in hourly_arrivals
    ]
    return [
        ShiftPlan(name=name, hours=tuple(hours), per_hour=tuple(per_hour[h] for h in hours))
        for name, hours in shifts.items()
    ]
