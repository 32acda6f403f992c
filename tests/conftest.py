"""Test helpers: a GraphQL client that goes through the real ASGI app.

Tests are synchronous; `async_to_sync` runs the ASGI app in an event loop
and routes the app's `sync_to_async(thread_sensitive=True)` database work
back to the test's thread, so it shares the test's connection and
transaction, and the `db` fixture rolls everything back.
"""

import asyncio
import itertools
import time
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections

from apps.accounts.jwt import encode_access_token
from apps.accounts.models import User
from apps.accounts.permissions import Perm

_emails = itertools.count(1)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def asgi_app():
    from commerce.asgi import application

    return application


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
