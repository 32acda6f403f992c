"""Counts of failures within a window, in the Django cache (Redis in
production, so every process counts together): what the throttles of
sign-in (apps.accounts.throttling) and of declined checkouts
(apps.checkout.throttling) are made of.

A count's window is fixed: it starts at the first failure and lasts
`window` seconds, however many follow, so that trying cannot go on at a
slower pace inside it. Each count has a sibling key holding when its window
started, and the window's end is decided here, against this process's
clock. The cache's own expiry (the same length) only tidies up: it runs on
Redis's clock, which neither answers exactly when the window ends nor moves
when a test moves the clock.
"""

import hashlib
import time
from collections.abc import Iterable

from django.core.cache import cache


def throttle_key(kind: str, ident: str) -> str:
    # Hashed: cache keys must not carry personal data nor arbitrary characters.
    return f"throttle:{kind}:" + hashlib.sha256(ident.encode()).hexdigest()


def _started(key: str) -> str:
    return f"{key}:started"


def _running(started: float | None, window: int, now: float) -> bool:
    # A count whose start is unknown (a lost sibling key) still counts: the
    # cache's expiry ends it.
    return started is None or now - started < window


def count_one(key: str, window: int) -> int:
    """One more in the window that started with the first; the new count."""
    now = time.time()
    started = cache.get(_started(key))
    if started is not None and not _running(started, window, now):
        cache.delete_many([key, _started(key)])
    # add() starts a window only if none is running; incr() keeps its expiry.
    cache.add(_started(key), now, timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window ended between add() and incr()
        cache.set_many({key: 1, _started(key): now}, timeout=window)
        return 1


def any_reached(limits: Iterable[tuple[str, int]], window: int) -> bool:
    """Whether any of the counts (key, limit) has reached its limit in a
    window still running; one read of the cache."""
    limits = list(limits)
    stored = cache.get_many([name for key, _ in limits for name in (key, _started(key))])
    now = time.time()
    return any(
        stored.get(key, 0) >= limit and _running(stored.get(_started(key)), window, now)
        for key, limit in limits
    )


def count_clear(key: str) -> None:
    cache.delete_many([key, _started(key)])
