"""The per-shop bucket shared in Redis: bursts queue, nothing is overdrawn."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from integrations.ratelimit import RateLimited, SharedBucket


@pytest.fixture
def bucket():
    shared = SharedBucket(f"test:{uuid.uuid4().hex}", capacity=100, restore_rate=50)
    yield shared
    shared.reset()


def test_a_full_bucket_lets_calls_through_without_waiting(bucket):
    assert [bucket.reserve(10, max_wait=5) for _ in range(10)] == [0.0] * 10


def test_a_burst_beyond_the_bucket_queues_in_turn(bucket):
    for _ in range(10):
        bucket.reserve(10, max_wait=5)
    waits = [bucket.reserve(10, max_wait=5) for _ in range(3)]
    # Each further call waits one more slot of 10 points at 50 points/s.
    assert waits == pytest.approx([0.2, 0.4, 0.6], abs=0.05)


def test_a_queue_longer_than_the_caller_can_wait_reserves_nothing(bucket):
    bucket.reserve(100, max_wait=5)
    with pytest.raises(RateLimited) as caught:
        bucket.reserve(100, max_wait=1)
    assert caught.value.wait == pytest.approx(2.0, abs=0.1)
    assert bucket.reserve(50, max_wait=5) == pytest.approx(1.0, abs=0.1)


def test_the_providers_report_lowers_the_level_and_sets_the_rate(bucket):
    bucket.sync(available=20, capacity=1000, restore_rate=100)
    assert bucket.reserve(30, max_wait=5) == pytest.approx(0.1, abs=0.03)


def test_unspent_points_come_back(bucket):
    bucket.reserve(100, max_wait=5)
    bucket.give_back(60)
    assert bucket.level() == pytest.approx(60, abs=3)


def test_workers_sharing_a_shop_never_overdraw_it(bucket):
    """Many threads (standing in for worker processes) against one bucket:
    the points granted never exceed capacity plus what refilled."""
    granted: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()

    def worker() -> None:
        for _ in range(5):
            wait = bucket.reserve(10, max_wait=10)
            time.sleep(wait)
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = granted and max(granted) - started
    assert len(granted) == 40
    # 400 points with a 100-point bucket at 50/s cannot finish before 6 s.
    assert elapsed >= 5.8
    assert elapsed < 8.0
