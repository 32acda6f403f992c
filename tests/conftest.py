"""Test helpers: a GraphQL client that goes through the real ASGI app.

Tests are synchronous; `async_to_sync` runs the ASGI app in an event loop
and routes the app's `sync_to_async(thread_sensitive=True)` database work
back to the test's thread, so it shares the test's connection and
transaction, and the `db` fixture rolls everything back.
"""

import asyncio
import itertools
import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, connection

from apps.accounts.jwt import encode_access_token
from apps.accounts.models import User
from apps.accounts.permissions import Perm
from tests import backends

_emails = itertools.count(1)

# --- What a run may skip ------------------------------------------------------------
#
# A test that needs a backend says so with a marker; it is skipped in the runs
# that lack the backend, because another run has it (CI runs the suite on
# SQLite, then on PostgreSQL with Redis). Under CI=true nothing else may skip:
# any other skip (a missing ../shared, an empty parametrisation, a stray
# skipif) is reported as a failure.

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# marker -> (whether this run has the backend, why the test skips without it)
BACKEND_MARKERS = {
    "postgresql": (lambda: connection.vendor == "postgresql",
                   "needs PostgreSQL: the run with DATABASE_URL=postgres://... executes it"),
    "not_postgresql": (lambda: connection.vendor != "postgresql",
                       "what happens without PostgreSQL: the SQLite run executes it"),
    "redis": (lambda: bool(settings.REDIS_URL),
              "needs Redis: the run with REDIS_URL=redis://... executes it"),
}
_skipped_for_backend = pytest.StashKey[bool]()


def pytest_sessionstart(session):
    asked = [os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")]
    down = backends.silent([url for url in asked if url.startswith(("postgres", "redis"))])
    if down:
        pytest.exit(
            "; ".join(f"{backends.kind(url)} at {backends.where(url)} does not answer"
                      for url in down)
            + ": start it, or unset its variable to run without it",
            returncode=pytest.ExitCode.TESTS_FAILED,
        )


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name, (present, reason) in BACKEND_MARKERS.items():
            if item.get_closest_marker(name) and not present():
                item.add_marker(pytest.mark.skip(reason=reason))
                item.stash[_skipped_for_backend] = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if (CI and report.skipped and not hasattr(report, "wasxfail")
            and not item.stash.get(_skipped_for_backend, False)):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
    return report



DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def _default_warehouse(request, django_db_blocker):
    """The default warehouse comes from a data migration, and a
    transactional test ends by emptying every table: on a reused test
    database (`--reuse-db`, the default here) the tests after it would find
    none. Put it back before any test that uses the database."""
    if request.node.get_closest_marker("django_db") is None and not (
        DATABASE_FIXTURES & set(request.fixturenames)
    ):
        return
    from apps.inventory.services import default_warehouse

    with django_db_blocker.unblock():
        default_warehouse()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def server_errors(caplog):
    """The errors logged while a test runs: an unexpected error is logged by
    schema.extensions (commerce.graphql), a 500 by Django (django.request)."""
    caplog.set_level(logging.ERROR)

    def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records
                if r.levelno >= logging.ERROR and r.name in ("commerce.graphql", "django.request")]

    return records


def asgi_app():
    from commerce.asgi import application

    return application


@pytest.fixture(scope="session", autouse=True)
def _asgi_app_loaded():
    """Load the ASGI app before any test: loading it runs django.setup(),
    which applies LOGGING again and would drop the handler through which
    caplog sees the first test's log records."""
    asgi_app()


class Client:
    """POSTs GraphQL to /graphql/ through commerce.asgi.application."""

    def __init__(self, token: str | None = None, address: str = "127.0.0.1"):
        self.token = token
        self.address = address

    def _headers(self, kwargs: dict) -> dict:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _run(self, send) -> Any:
        """Run `send(client)` in an event loop against the ASGI app."""

        async def run() -> Any:
            transport = httpx.ASGITransport(app=asgi_app(), client=(self.address, 4000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await send(c)

        # As Django's test client does: a request must not close the test's
        # connection, which holds the transaction the test rolls back.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            return async_to_sync(run)()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)

    def request(self, method: str, url: str = "/graphql/", **kwargs: Any) -> httpx.Response:
        headers = self._headers(kwargs)
        return self._run(lambda c: c.request(method, url, headers=headers, **kwargs))

    def concurrently(self, *requests: tuple[str, str, dict]) -> list[tuple[httpx.Response, float]]:
        """Send (method, url, kwargs) requests at once on one event loop, as
        one server process would receive them; each answer with its seconds."""

        async def timed(c: httpx.AsyncClient, method: str, url: str, kwargs: dict):
            headers = self._headers(kwargs)
            start = time.perf_counter()
            response = await c.request(method, url, headers=headers, **kwargs)
            return response, time.perf_counter() - start

        async def send(c: httpx.AsyncClient):
            return await asyncio.gather(*(timed(c, *request) for request in requests))

        return self._run(send)

    def upload(self, query: str, variables: dict,
               files: dict[str, tuple[str, bytes, str]]) -> httpx.Response:
        """A GraphQL multipart request as apollo-upload-client sends it, with
        the Apollo-Require-Preflight header the server requires of uploads.

        `files` maps where each file goes ("variables.image") to its
        (filename, content, content type).
        """
        paths = list(files)
        return self.request(
            "POST",
            data={"operations": json.dumps({"query": query, "variables": variables}),
                  "map": json.dumps({str(i): [path] for i, path in enumerate(paths)})},
            files={str(i): files[path] for i, path in enumerate(paths)},
            headers={"Apollo-Require-Preflight": "true"},
        )

    def post(self, query: str, variables: dict | None = None, **kwargs: Any) -> dict:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if "operation_name" in kwargs:
            body["operationName"] = kwargs.pop("operation_name")
        response = self.request("POST", json=body, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def execute(self, query: str, variables: dict | None = None, **kwargs: Any) -> dict:
        """POST and assert there were no top-level errors; returns `data`."""
        result = self.post(query, variables, **kwargs)
        assert not result.get("errors"), result["errors"]
        return result["data"]


def error_codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def traced(monkeypatch):
    """Traces on for the test, its spans kept in memory (tests/tracing.py,
    imported only by a test that asks)."""
    from tests import tracing

    yield from tracing.in_memory(monkeypatch)


def make_user(*, email: str | None = None, password: str = "correct-horse-battery",
              perms: list[Perm] | tuple = (), **extra: Any) -> User:
    email = email or f"user{next(_emails)}@example.com"
    user = User.objects.create_user(email=email, password=password, **extra)
    if perms:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="accounts", codename__in=[p.codename for p in perms]
            )
        )
    return user


def token_for(user: User) -> str:
    return encode_access_token(user_id=user.pk, email=user.email)


def signed_token(subject: Any, *, omit: bool = False) -> str:
    """An access token signed with the server's key whose subject is `subject`
    (or that has none): what a client cannot forge, but a key shared with
    another service could produce."""
    now = datetime.now(tz=UTC)
    payload = {"email": "a@example.com", "type": "access", "iat": now,
               "exp": now + timedelta(minutes=5)}
    if not omit:
        payload["sub"] = subject
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm=settings.JWT_ALGORITHM)


def client_for(user: User) -> Client:
    return Client(token=token_for(user))


@pytest.fixture
def customer(db) -> User:
    return make_user(first_name="Ada", last_name="Lovelace")


@pytest.fixture
def customer_client(customer) -> Client:
    return client_for(customer)


@pytest.fixture
def staff(db) -> User:
    return make_user(perms=list(Perm), first_name="Sam", last_name="Staff")


@pytest.fixture
def staff_client(staff) -> Client:
    return client_for(staff)


def problems(payload: dict) -> list[tuple[str | None, str]]:
    """A payload's errors as (field, code)."""
    return [(e["field"], e["code"]) for e in payload["errors"]]


# Callers a catalog manager's mutation must refuse, with the code each gets.
WHO = [("anonymous", "UNAUTHENTICATED"), ("customer", "FORBIDDEN"),
       ("other staff", "FORBIDDEN")]


def client_of(who: str) -> Client:
    if who == "anonymous":
        return Client()
    return client_for(make_user(perms=[Perm.MANAGE_ORDERS] if who == "other staff" else []))
