"""Whether the PostgreSQL and Redis a run asks for answer.

Two callers: tests/conftest.py stops a run at once when DATABASE_URL or
REDIS_URL names a server that does not answer (one clear line rather than
hundreds of connection errors), and .ci/run waits for the services it has
just started:

    python -m tests.backends --wait 20 postgres://… redis://…

exits 0 when every URL answers within the wait, 1 otherwise, saying which
did not. Messages name host and port only: a URL may carry a password.
"""

import argparse
import sys
import time
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 3


def where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or ''}".rstrip(":")


def kind(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql"}:
        return "PostgreSQL"
    if scheme in {"redis", "rediss"}:
        return "Redis"
    raise ValueError(f"not a PostgreSQL or Redis URL: {scheme}://…")


def answers(url: str) -> bool:
    """One connection attempt. PostgreSQL is asked through its maintenance
    database, as Django does before it creates the test database, so a
    database that does not exist yet is not mistaken for a server that is down."""
    if kind(url) == "PostgreSQL":
        import psycopg

        try:
            psycopg.connect(url, dbname="postgres", connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error:
            return False
        return True
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT).ping())
    except redis.RedisError:
        return False


def silent(urls: list[str], *, wait: float = 0) -> list[str]:
    """The URLs that still do not answer after up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        down = [url for url in urls if not answers(url)]
        if not down or time.monotonic() >= deadline:
            return down
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.backends", description=__doc__)
    parser.add_argument("--wait", type=float, default=0, help="seconds to keep trying")
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args(argv)
    down = silent(args.urls, wait=args.wait)
    for url in down:
        print(f"{kind(url)} at {where(url)} does not answer", file=sys.stderr)
    return 1 if down else 0


if __name__ == "__main__":
    sys.exit(main())
