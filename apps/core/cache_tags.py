"""Tag versions in the shared cache: how an entry built in one process learns,
in any other, that something it shows has changed.

Each tag ("product:12", "products") has a version. Bumping a tag gives it
the next value of one shared clock (a counter in the cache, advanced and
handed out by one Redis script).
An entry stores the versions of its tags as it found them after it was
built, and is good while every one is still current: one `get_many` on
read. Nothing expires by time.

An entry may only be stored with versions no newer than the clock as it was
read *before* the entry's data was read from the database. Otherwise a
change committed (and bumped) while the entry was being built would be
stamped as already seen: the entry would hold the old data under the new
version, for ever. `stamp` refuses such an entry; it is simply not stored,
and the next read builds it again. A tag whose version the cache does not
hold (never bumped, or evicted) starts at the builder's clock when the clock
has not moved since (no change at all meanwhile); otherwise it is given a
fresh version, which refuses that one build. Either way a lost version can
never make an old entry current again.

With Redis (production, several processes) the clock and the versions are
shared by every process; with the local-memory cache (development, the
SQLite test run) by one process only, which is all those run.
"""

import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches

from apps.core import replicas
from django.core.cache.backends.redis import RedisCache

PREFIX = "tags:"
CLOCK = PREFIX + "clock"

# KEYS[1]: the clock; KEYS[2..]: version keys. ARGV[1]: where a lost clock
# starts again; ARGV[2]: "NX" to give only versions the cache lacks. One
# script, so that versions are given in the clock's order: a bump can never
# be overwritten by an older one.
TICK_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
end
local version = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do
  if ARGV[2] == 'NX' then
    redis.call('SET', KEYS[i], version, 'NX')
  else
    redis.call('SET', KEYS[i], version)
  end
end
return version
"""

# KEYS[1]: the clock; KEYS[2..]: version keys the cache lacks. ARGV[1]: the
# clock as the builder first read it. When nothing was bumped since, none of
# these tags was: they start at that value. Returns 1 if they did.
START_SCRIPT = """
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
if now ~= tonumber(ARGV[1]) then
  return 0
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'NX')
end
return 1
"""


def version_key(tag: str) -> str:
    return f"{PREFIX}v:{tag}"


def _cache():
    return caches["default"]


_scripts: dict[str, object] = {}
_lock = threading.Lock()


def _run(script: str, keys: list[str], args: list) -> int:
    """Run one of the scripts above on Redis, on the cache's keys."""
    backend = _cache()
    full = [backend.make_and_validate_key(key) for key in keys]
    client = backend._cache.get_client(full[0], write=True)
    if script not in _scripts:
        with _lock:
            # redis-py's Script runs EVALSHA, and loads the script again when
            # the server has forgotten it (a restart, SCRIPT FLUSH).
            _scripts[script] = client.register_script(script)
    return int(_scripts[script](keys=full, args=args, client=client))  # type: ignore[operator]


def _tick(version_keys: list[str], *, only_missing: bool) -> int:
    """Advance the clock and give its value to these versions (or to those
    of them the cache lacks), at once. A clock the cache lost starts again
    from the time in microseconds, above any value it gave before."""
    backend = _cache()
    restart = time.time_ns() // 1000
    if isinstance(backend, RedisCache):
        return _run(TICK_SCRIPT, [CLOCK, *version_keys],
                    [restart, "NX" if only_missing else ""])
    with _lock:  # the local-memory cache: one process, so a lock is enough
        version = (backend.get(CLOCK) or restart) + 1
        backend.set(CLOCK, version, timeout=None)
        for key in version_keys:
            if not only_missing or backend.get(key) is None:
                backend.set(key, version, timeout=None)
        return version


def _start(version_keys: list[str], *, since: int) -> bool:
    """Give these missing versions the value `since` if the clock has not
    moved since then (nothing was bumped meanwhile); whether it had not."""
    backend = _cache()
    if isinstance(backend, RedisCache):
        return bool(_run(START_SCRIPT, [CLOCK, *version_keys], [since]))
    with _lock:
        if clock_of(backend.get(CLOCK)) != since:
            return False
        for key in version_keys:
            backend.add(key, since, timeout=None)
        return True


def clock_of(value: object) -> int:
    """The clock as `cache.get(CLOCK)` (or a get_many) found it: read it
    before reading what an entry will show. A missing clock reads as 0,
    before any version it will give."""
    return value if isinstance(value, int) else 0


def bump(tags: Iterable[str]) -> None:
    """Make every entry tagged with any of `tags` stale, in every process."""
    keys = sorted(version_key(tag) for tag in set(tags))
    if keys:
        # First, so that a read that sees the new versions also waits for
        # replicas to have the change (apps.core.replicas).
        replicas.note_primary_changed()
        _tick(keys, only_missing=False)


def stamp(tags: Iterable[str], *, since: int) -> dict[str, int] | None:
    """The versions to store with an entry of `tags` whose data was read
    after the clock showed `since`; None when it must not be stored (a tag
    was bumped since).

    A tag without a version (new, or evicted) starts at `since` when nothing
    at all was bumped since; else it gets a fresh version from the clock and
    this entry is not stored."""
    keys = {tag: version_key(tag) for tag in set(tags)}
    found = _versions(list(keys.values()))
    missing = sorted(key for key in keys.values() if key not in found)
    if missing:
        if not _start(missing, since=since):
            _tick(missing, only_missing=True)
            return None
        found.update(dict.fromkeys(missing, since))
    if any(found[key] > since for key in keys.values()):
        return None
    return {tag: found[key] for tag, key in keys.items()}


def current(versions: dict[str, int]) -> bool:
    """Whether an entry stamped with these versions is still current."""
    keys = {version_key(tag): version for tag, version in versions.items()}
    found = _versions(list(keys))
    return all(found.get(key) == version for key, version in keys.items())


def _versions(keys: list[str]) -> dict[str, Any]:
    """`get_many` of these version keys. On Redis, one MGET without
    Django's check of every key for memcached's rules (a loop over each
    character, for the ~140 tags of a listing's entry on every hit): these
    keys are this module's own, short and ASCII."""
    backend = _cache()
    if not isinstance(backend, RedisCache) or not keys:
        return backend.get_many(keys)
    full = [backend.make_key(key) for key in keys]
    wrapper: Any = backend._cache  # django.core.cache.backends.redis.RedisCacheClient
    client = wrapper.get_client(full[0])
    loads = wrapper._serializer.loads
    return {key: loads(value)
            for key, value in zip(keys, client.mget(full), strict=True) if value is not None}
