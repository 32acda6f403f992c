"""A real Celery worker for the tests: `celery -A commerce worker` in a
process of its own, on the production settings (commerce.settings), the
test database and the run's Redis, as `compose.yaml` runs it beside the web
processes. The test process plays the web side: with `worker`, what its
handlers `.delay` goes to the broker instead of running eagerly.

Needs PostgreSQL and Redis: the worker reads what the test committed (a
transactional test), which an in-memory SQLite database cannot share with
another process, and takes its tasks from Redis.

The fixtures:

- `running_worker` (per module): the worker, started once (a few seconds:
  Django and Celery start up) and stopped at the end; its email goes to an
  SMTP sink (tests/smtp_sink.py), its Stripe calls to the fake of
  tests/fake_stripe.py.
- `worker` (per test): the same worker, with the test process publishing to
  the broker, and the tables emptied after the test (transactional_db).

A test module takes them by importing them:

    from tests.celery_worker import _running_worker, _worker  # noqa: F401 - fixtures
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from commerce.celery import app
from tests import fake_stripe
from tests.smtp_sink import SMTPSink

START_TIMEOUT = 60  # seconds; about 5 on two busy cores
STOP_TIMEOUT = 15
T = TypeVar("T")


class Worker:
    def __init__(self, *, env: dict[str, str], log: Path, mail: SMTPSink):
        self.name = f"tests-{os.getpid()}@localhost"
        self.log = log
        self.mail = mail
        # solo: the tasks run one at a time in the worker's own process, the
        # quickest to start; prefork would add a child per slot. No mingle,
        # gossip or heartbeat: nothing to say to other workers, and mingle
        # alone waits a second for their answers.
        command = [sys.executable, "-m", "celery", "-A", "commerce", "worker",
                   "--pool=solo", "--loglevel=INFO", f"--hostname={self.name}",
                   "--without-mingle", "--without-gossip", "--without-heartbeat"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out,
                                            stderr=subprocess.STDOUT,
                                            cwd=settings.BASE_DIR)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while f"{self.name} ready." not in self.output():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n"
                            + self.output()[-3000:])
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the worker was not ready within {START_TIMEOUT} s:\n"
                            + self.output()[-3000:])
            time.sleep(0.1)

    def stop(self) -> None:
        # TERM is Celery's warm shutdown: the task under way finishes first.
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def settle(self, *, timeout: float = 20) -> None:
        """Wait until the worker is done with what the test set off: nothing
        queued or unacknowledged on the broker, and no database session but
        this one in a transaction, twice in a row. The test's flush (one
        TRUNCATE of every table) would otherwise deadlock with a task the
        test's events set off, still running on the worker."""
        def idle() -> bool:
            with app.connection_for_read() as broker:
                client = broker.default_channel.client
                queued = client.llen(app.conf.task_default_queue) + client.hlen("unacked")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    " AND state <> 'idle'")
                busy = cursor.fetchone()[0]
            return queued == 0 and busy == 0

        def settled() -> bool:
            if not idle():
                return False
            time.sleep(0.1)
            return idle()

        self.eventually(settled, timeout=timeout)

    def eventually(self, check: Callable[[], T], *, timeout: float = 20) -> T:
        """`check()` once it answers something true, asked every 50 ms for up
        to `timeout` seconds; fails with the worker's log otherwise."""
        deadline = time.monotonic() + timeout
        while not (result := check()):
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n"
                            + self.output()[-3000:])
            if time.monotonic() > deadline:
                pytest.fail(f"not done by the worker within {timeout} s; its log:\n"
                            + self.output()[-3000:])
            time.sleep(0.05)
        return result


def database_url() -> str:
    """The test database (created by pytest-django) as a DATABASE_URL."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return (f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
            f"/{quote(db['NAME'], safe='')}")


def _as_env(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def worker_env(*, mail: SMTPSink) -> dict[str, str]:
    """The worker's environment: this one, with the settings a deployment
    would give it, pointed at what the tests run."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CELERY_", "DJANGO_", "EMAIL_", "STRIPE_"))}
    values = {
        "DJANGO_SETTINGS_MODULE": "commerce.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": mail.port,
        "EMAIL_USE_TLS": "0",
        # What beat's sweep finds due: every event still unsent when it runs
        # (tests/test_across_processes.py enqueues the sweep when it wants one).
        "EVENTS_RETRY_AFTER": 0,
        **fake_stripe.settings_for(fake_stripe.server()),
    }
    env.update({key: _as_env(value) for key, value in values.items()})
    return env


@pytest.fixture(scope="module", name="running_worker")
def _running_worker(django_db_setup, tmp_path_factory) -> Iterator[Worker]:
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.fail("a worker needs PostgreSQL and Redis: mark the test postgresql and redis")
    mail = SMTPSink()
    env = worker_env(mail=mail)
    app.control.purge()  # what an earlier run left in the queue
    worker = Worker(env=env, log=tmp_path_factory.mktemp("worker") / "worker.log", mail=mail)
    try:
        worker.wait_until_ready()
        yield worker
    finally:
        worker.stop()
        mail.close()


@pytest.fixture(name="worker")
def _worker(running_worker: Worker, transactional_db) -> Iterator[Worker]:
    """The worker, and the test process publishing tasks to the broker as a
    web process does (the test settings run them eagerly otherwise)."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False
    try:
        yield running_worker
    finally:
        app.conf.task_always_eager = eager
        running_worker.settle()  # before transactional_db's flush


@contextlib.contextmanager
def broker_at(url: str) -> Iterator[None]:
    """The test process's tasks published to the broker at `url` (one that
    does not answer, to take the broker down for the web side only)."""
    app.conf.broker_write_url = url
    _forget_broker_connections()
    try:
        yield
    finally:
        app.conf.broker_write_url = None
        _forget_broker_connections()


def _forget_broker_connections() -> None:
    # The pools Celery made for the old URL, dropped as after a fork
    # (celery.app.base.Celery._after_fork), so the next publish connects anew.
    app._pool = None
    app.amqp._producer_pool = None


def closed_port() -> int:
    """A port of 127.0.0.1 on which nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
