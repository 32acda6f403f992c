"""A per-client budget of points: a leaky bucket kept in the shared cache.

Each client has a bucket holding at most `size` points that refills at `rate`
points a second. A request that costs `cost` points goes ahead when the
bucket holds that many, and takes them out; otherwise it is refused, and
told how long until the bucket holds enough. This is Shopify's model: a
client may burst up to the bucket's size, then proceeds at the refill rate.

The state is two numbers, the points left and when they were counted. With
Redis (production, several processes and hosts) they are read and written
by one Lua script, so two processes spending from one bucket at the same
moment cannot both spend the same points. With any other cache (local memory
in development and tests: one process) a lock makes read-then-write atomic
within the process. The clock is the application's (time.time()), so tests
can move it; hosts' clocks need only agree to within a fraction of a
second, and a bucket never refills for time that runs backwards.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

PREFIX = "budget:"

# KEYS[1]: the bucket. ARGV: size, rate, now, cost, seconds to keep it.
# Returns {1 when spent else 0, points left as a string}: Redis turns Lua
# numbers into integers, and the points are fractional.
SPEND_SCRIPT = """
local size = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'points', 'at')
local points = tonumber(state[1]) or size
local at = tonumber(state[2]) or now
if now > at then
  points = math.min(size, points + (now - at) * rate)
  at = now
end
local spent = 0
if points >= cost then
  points = points - cost
  spent = 1
end
redis.call('HSET', KEYS[1], 'points', tostring(points), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {spent, tostring(points)}
"""


class BudgetUnavailable(Exception):
    """The cache that holds the buckets did not answer."""


@dataclass(frozen=True)
class Spend:
    """The outcome of one request against a bucket."""

    spent: bool
    available: float  # points left after this request
    retry_after: int  # seconds until a refused request would fit; 0 when spent


def spend(*, key: str, cost: int, size: int, rate: float) -> Spend:
    """Take `cost` points from the bucket `key` if it holds them.

    Raises BudgetUnavailable when Redis does not answer, for the caller to
    decide whether to go on without a budget."""
    now = time.time()
    keep = math.ceil(size / rate) + 1 if rate > 0 else 24 * 3600
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        spent, available = _spend_in_redis(backend, key, cost=cost, size=size, rate=rate, now=now,
                                           keep=keep)
    else:
        spent, available = _spend_in_cache(backend, key, cost=cost, size=size, rate=rate, now=now,
                                           keep=keep)
    return Spend(spent=spent, available=available,
                 retry_after=0 if spent else _wait(cost - available, rate))


def _wait(missing: float, rate: float) -> int:
    if rate <= 0:
        return 24 * 3600
    return max(1, math.ceil(missing / rate))


_script = None
_script_lock = threading.Lock()


def _spend_in_redis(backend: RedisCache, key: str, *, cost: int, size: int, rate: float,
                    now: float, keep: int) -> tuple[bool, float]:
    global _script
    full_key = backend.make_and_validate_key(PREFIX + key)
    client = backend._cache.get_client(full_key, write=True)
    if _script is None:
        with _script_lock:
            # redis-py's Script runs EVALSHA, and loads the script again when
            # the server has forgotten it (a restart, SCRIPT FLUSH).
            _script = client.register_script(SPEND_SCRIPT)
    try:
        spent, points = _script(keys=[full_key], args=[size, rate, now, cost, keep],
                                client=client)
    except RedisError as error:
        raise BudgetUnavailable(str(error)) from error
    return bool(spent), float(points)


_local_lock = threading.Lock()


def _spend_in_cache(backend, key: str, *, cost: int, size: int, rate: float, now: float,
                    keep: int) -> tuple[bool, float]:
    with _local_lock:
        points, at = backend.get(PREFIX + key) or (float(size), now)
        if now > at:
            points, at = min(float(size), points + (now - at) * rate), now
        spent = points >= cost
        if spent:
            points -= cost
        backend.set(PREFIX + key, (points, at), timeout=keep)
    return spent, points
