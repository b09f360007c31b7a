"""Erlang C staffing: the published reference case and the queue's properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import staffing

REFERENCE = {
    "arrivals": 100,
    "interval_seconds": 1800,
    "handle_seconds": 180,
    "target_seconds": 20,
    "target_service_level": 0.80,
}


def test_reference_case_needs_14_specialists():
    result = staffing.agents_needed(**REFERENCE)
    assert result.traffic == pytest.approx(10.0)
    assert result.agents == 14
    assert round(result.service_level, 3) == 0.888
    assert round(result.occupancy, 3) == 0.714
    assert round(result.probability_of_waiting, 3) == 0.174


def test_reference_case_schedules_20_with_30_percent_shrinkage():
    assert staffing.agents_needed(**REFERENCE, shrinkage=0.30).scheduled == 20


def test_thirteen_specialists_miss_the_reference_target():
    below = staffing.evaluate(
        13, arrivals=100, interval_seconds=1800, handle_seconds=180, target_seconds=20
    )
    assert below.service_level < 0.80


def test_too_few_agents_always_wait_and_meet_no_target():
    assert staffing.probability_of_waiting(10, 10.0) == 1.0
    assert staffing.service_level(9, 10.0, 180, 20) == 0.0


def test_no_arrivals_need_no_agents():
    assert staffing.agents_needed(**{**REFERENCE, "arrivals": 0}).agents == 0


def test_erlang_b_is_stable_for_large_pods():
    # 1,000 Erlangs would overflow a factorial formula.
    result = staffing.agents_needed(**{**REFERENCE, "arrivals": 10_000})
    assert 1000 < result.agents < 1100


def test_occupancy_cap_adds_agents():
    capped = staffing.agents_needed(**REFERENCE, max_occupancy=0.65)
    assert capped.agents == 16  # 10 / 16 = 0.625 ≤ 0.65 < 10 / 15


def test_peak_planner_multiplies_volume():
    rows = staffing.peak_plan(**REFERENCE, shrinkage=0.3)
    assert [r.multiplier for r in rows] == [1, 3, 4, 5]
    assert [r.arrivals for r in rows] == [100, 300, 400, 500]
    assert rows[0].staffing.agents == 14
    agents = [r.staffing.agents for r in rows]
    assert agents == sorted(agents)
    # Pooling: five times the volume needs fewer than five times the agents.
    assert rows[-1].staffing.agents < 5 * 14


def test_shift_plan_staffs_each_shift_for_its_busiest_hour():
    hourly = [0] * 24
    hourly[9], hourly[10], hourly[20] = 200, 120, 40
    plans = staffing.shift_plan(
        hourly,
        {"day": range(8, 16), "evening": range(16, 24)},
        handle_seconds=180,
        target_seconds=20,
        target_service_level=0.8,
        shrinkage=0.3,
    )
    day, evening = plans
    assert (
        day.agents
        == staffing.agents_needed(
            arrivals=200,
            interval_seconds=3600,
            handle_seconds=180,
            target_seconds=20,
            target_service_level=0.8,
        ).agents
    )
    assert evening.agents < day.agents
    assert day.scheduled == staffing.with_shrinkage(day.agents, 0.3)


def test_shrinkage_must_be_a_share():
    with pytest.raises(ValueError):
        staffing.with_shrinkage(10, 1.0)


arrivals = st.integers(min_value=1, max_value=2000)
handle = st.integers(min_value=10, max_value=1200)
target_level = st.sampled_from([0.5, 0.7, 0.8, 0.9, 0.95])


@given(
    arrivals=arrivals,
    more=st.integers(min_value=0, max_value=500),
    handle=handle,
    level=target_level,
)
def test_more_arrivals_never_need_fewer_agents(arrivals, more, handle, level):
    def needed(volume):
        return staffing.agents_needed(
            arrivals=volume,
            interval_seconds=1800,
            handle_seconds=handle,
            target_seconds=20,
            target_service_level=level,
        ).agents

    assert needed(arrivals + more) >= needed(arrivals)


@given(arrivals=arrivals, handle=handle, target=st.integers(min_value=0, max_value=120))
def test_service_level_rises_with_agents(arrivals, handle, target):
    traffic = staffing.traffic_intensity(arrivals, handle, 1800)
    start = int(traffic) + 1
    levels = [staffing.service_level(n, traffic, handle, target) for n in range(start, start + 15)]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(levels))
    waits = [staffing.probability_of_waiting(n, traffic) for n in range(start, start + 15)]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(waits))


@given(arrivals=arrivals, handle=handle, level=target_level, shrink=st.floats(0, 0.6))
def test_the_answer_meets_the_target_and_one_fewer_does_not(arrivals, handle, level, shrink):
    result = staffing.agents_needed(
        arrivals=arrivals,
        interval_seconds=1800,
        handle_seconds=handle,
        target_seconds=20,
        target_service_level=level,
        shrinkage=shrink,
    )
    assert result.service_level >= level
    assert staffing.service_level(result.agents - 1, result.traffic, handle, 20) < level
    assert result.scheduled >= result.agents
