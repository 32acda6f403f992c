"""Django's Redis cache, with its connections kept for the process.

Django keeps a cache object per async context (its `caches` are a
context-local handler), and each RedisCache object makes its own redis-py
connection pool. Under ASGI every request is a context of its own, so every
request that touched the cache opened a new TCP connection to Redis (and
closed it when the pool was collected): about as much as the rest of a
response cache hit (django/django#18459, open). Here the pools are the
process's, one per server and options, shared by every cache object;
redis-py's pools are thread-safe and start afresh in a forked child.

Django also makes a new redis-py client (`redis.Redis`) for every command,
and redis-py 8 builds each client's table of ~170 reply callbacks in its
constructor: about 0.09 ms, twice a response cache hit. A client holds no
connection of its own between commands (it takes one from the pool for
each, and redis-py documents clients as safe to share between threads), so
one client per pool is kept with it.
"""

import threading
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_pools: dict[tuple[str, str], Any] = {}
# id(pool) -> (pool, its client); the pool is kept so that its id stays its own.
_clients: dict[int, tuple[Any, Any]] = {}
_lock = threading.Lock()


class SharedPoolClient(RedisCacheClient):
    # RedisCacheClient's own, which django-stubs leaves out.
    _client: Any
    _servers: list[str]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _get_connection_pool_index: Callable[[bool], int]

    def _get_connection_pool(self, write: bool) -> Any:
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, repr(sorted(self._pool_options.items())))
        pool = _pools.get(key)
        if pool is None:
            with _lock:
                pool = _pools.get(key)
                if pool is None:
                    pool = _pools[key] = self._pool_class.from_url(server, **self._pool_options)
        return pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        known = _clients.get(id(pool))
        if known is None or known[0] is not pool:
            with _lock:
                known = _clients[id(pool)] = (pool, self._client(connection_pool=pool))
        return known[1]


class SharedPoolRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, its pools shared."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolClient
