"""Read replicas (README "Read replicas"): which database a read goes to.

`DATABASE_REPLICA_URLS` adds the aliases `replica_0`, `replica_1`...; the
router sends every write, and every read outside `reading_from_replica()`,
to the primary (`default`). Only the GraphQL layer opens that block, for an
anonymous or customer catalog read by a client that has not written lately
(schema/replicas.py), so nothing else (a mutation, checkout, the account
pages, Celery tasks, the admin) can read from a replica.

Two promises need more than routing:

- *Read your writes.* A client that sent a mutation in the last
  `REPLICA_READ_YOUR_WRITES_SECONDS` reads the primary, so a replica that
  has not replayed its change yet cannot hide it from them.
- *The response cache stays right.* An entry must never be built from data
  older than the tag versions it is stored with. So each invalidation also
  records the primary's WAL position (`pg_current_wal_lsn()`), and a read
  goes to a replica only if that replica has replayed up to it; otherwise
  to the primary. A change that commits while the read runs is caught by
  the tag clock as on the primary (apps.core.cache_tags.stamp).
"""

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

_reading_from: ContextVar[str | None] = ContextVar("commerce_replica", default=None)

CHANGED_AT = "replicas:primary-lsn"
WROTE = "replicas:wrote:"


class ReplicaRouter:
    """Reads inside `reading_from_replica()` go to its replica; everything
    else, writes and migrations included, to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _reading_from.get()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the replicas hold the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def enabled() -> bool:
    return bool(settings.DATABASE_REPLICAS)


@contextmanager
def reading_from_replica(alias: str) -> Iterator[None]:
    token = _reading_from.set(alias)
    try:
        yield
    finally:
        _reading_from.reset(token)


def current_alias() -> str:
    return _reading_from.get() or DEFAULT_DB_ALIAS


def _postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def note_primary_changed() -> None:
    """Record how far the primary's WAL is, after a change that makes cached
    answers stale (called with each tag bump, after the commit)."""
    if not enabled() or not _postgres(DEFAULT_DB_ALIAS):
        return
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (position,) = cursor.fetchone()
    cache.set(CHANGED_AT, position, timeout=None)


def _caught_up(alias: str, position: str | None) -> bool:
    """Whether the replica has replayed the primary's WAL up to `position`.
    A server that is not in recovery answers NULL: it is the primary's
    mirror (a test set-up), and has everything."""
    if position is None or not _postgres(alias):
        return True
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_last_wal_replay_lsn() IS NULL "
                       "OR pg_last_wal_replay_lsn() >= %s::pg_lsn", [position])
        (caught_up,) = cursor.fetchone()
    return bool(caught_up)


def replica_for_catalog_read(*, client: str) -> str | None:
    """The replica a catalog read by `client` (a user id or an address) may
    use, or None for the primary. Runs SQL: call it in a thread."""
    if not enabled():
        return None
    found = cache.get_many([WROTE + client, CHANGED_AT])  # one round trip
    wrote = found.get(WROTE + client)
    if isinstance(wrote, float) and time.time() - wrote < settings.REPLICA_READ_YOUR_WRITES_SECONDS:
        return None
    alias = random.choice(settings.DATABASE_REPLICAS)
    return alias if _caught_up(alias, found.get(CHANGED_AT)) else None


def note_client_wrote(*, client: str) -> None:
    """The client sent a mutation: it reads the primary for a while."""
    if enabled():
        # The time, not a key that expires: the window is the server's clock
        # (Redis expires keys by its own).
        cache.set(WROTE + client, time.time(),
                  timeout=settings.REPLICA_READ_YOUR_WRITES_SECONDS + 1)
