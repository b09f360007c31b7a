"""A per-shop leaky bucket shared by every worker, kept in Redis.

Platforms limit an app per shop (Shopify: a bucket of query-cost points that
refills at a fixed rate). With many workers on many machines, each one
guessing on its own would overdraw the bucket and get throttled; instead each
call *reserves* its cost here first. A reservation always succeeds while the
queue is short: the caller is told how long to wait for its turn, so a burst
becomes an orderly queue instead of a wave of throttled requests. Only when
the wait would exceed what the caller can afford is nothing reserved, and the
caller defers the work (the task is retried later).

The level may go negative: that is the queue. Time comes from the Redis
server, so workers with skewed clocks still agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import redis
from django.conf import settings

# KEYS[1] bucket; ARGV: cost, max_wait, default capacity, default restore rate.
# Returns the wait in seconds as a string (Lua numbers become integers in
# replies); a negative value means "not reserved, the wait would be this long".
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'level', 'ts', 'cap', 'rate')
local cap = tonumber(h[3]) or tonumber(ARGV[3])
local rate = tonumber(h[4]) or tonumber(ARGV[4])
local level = tonumber(h[1]) or cap
local ts = tonumber(h[2]) or now
level = math.min(cap, level + math.max(0, now - ts) * rate)
local cost = tonumber(ARGV[1])
local wait = 0
if level < cost then wait = (cost - level) / rate end
if wait > tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'level', level, 'ts', now, 'cap', cap, 'rate', rate)
  return tostring(-wait)
end
redis.call('HSET', KEYS[1], 'level', level - cost, 'ts', now, 'cap', cap, 'rate', rate)
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""

# KEYS[1] bucket; ARGV: "add" and points to give back (negative to take), or
# "sync" and the provider's reported level, capacity and rate.
_ADJUST = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local h = redis.call('HMGET', KEYS[1], 'level', 'ts', 'cap', 'rate')
local cap = tonumber(h[3]) or tonumber(ARGV[3])
local rate = tonumber(h[4]) or tonumber(ARGV[4])
local level = tonumber(h[1]) or cap
local ts = tonumber(h[2]) or now
level = math.min(cap, level + math.max(0, now - ts) * rate)
if ARGV[1] == 'sync' then
  cap = tonumber(ARGV[3])
  rate = tonumber(ARGV[4])
  level = math.min(level, tonumber(ARGV[2]))
else
  level = math.min(cap, level + tonumber(ARGV[2]))
end
redis.call('HSET', KEYS[1], 'level', level, 'ts', now, 'cap', cap, 'rate', rate)
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(level)
"""


class RateLimited(Exception):
    """The queue for this shop is longer than the caller can wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"Rate limited: next slot in {wait:.1f}s")
        self.wait = wait


_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return _client


@dataclass
class SharedBucket:
    """One shop's bucket. ``capacity`` and ``restore_rate`` are starting guesses;
    ``sync`` replaces them with what the provider reports."""

    name: str
    capacity: float = 1000.0
    restore_rate: float = 50.0
    client: redis.Redis | None = None

    @property
    def key(self) -> str:
        prefix = os.environ.get("REDIS_KEY_PREFIX", "desk")
        return f"{prefix}:ratelimit:{self.name}"

    def _redis(self) -> redis.Redis:
        return self.client or redis_client()

    def reserve(self, cost: float, *, max_wait: float) -> float:
        """Reserve ``cost`` points; return how many seconds to wait before using them."""
        reply = self._redis().eval(
            _RESERVE, 1, self.key, cost, max_wait, self.capacity, self.restore_rate
        )
        wait = float(reply)
        if wait < 0:
            raise RateLimited(-wait)
        return wait

    def give_back(self, points: float) -> None:
        """Return points reserved but not spent (negative: the call cost more)."""
        if points:
            self._redis().eval(
                _ADJUST, 1, self.key, "add", points, self.capacity, self.restore_rate
            )

    def sync(self, available: float, capacity: float, restore_rate: float) -> None:
        """Never believe in more points than the provider says are left."""
        self.capacity, self.restore_rate = capacity, restore_rate
        self._redis().eval(_ADJUST, 1, self.key, "sync", available, capacity, restore_rate)

    def level(self) -> float:
        return float(
            self._redis().eval(_ADJUST, 1, self.key, "add", 0, self.capacity, self.restore_rate)
        )

    def reset(self) -> None:
        self._redis().delete(self.key)
