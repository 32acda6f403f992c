import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from strawberry.dataloader import DataLoader

from apps.accounts.jwt import (
    InvalidAccessToken,
    access_token_expiry,
    access_token_session,
    token_from_header,
)
from apps.accounts.selectors import user_from_access_token

L = TypeVar("L", bound=DataLoader)


@dataclass
class Context:
    """What every resolver gets as `info.context`, over HTTP and WebSocket.

    `user` comes only from the bearer token; session cookies never
    authenticate a GraphQL request. `auth_error` is set when a token was sent
    but is bad: the operation is then refused as UNAUTHENTICATED, even one
    that would work anonymously, so the client knows to refresh.
    `access_expires_at` is when the token stops working: a WebSocket
    connection, which authenticates once, is closed then. `session` is the
    sign-in session the token belongs to (its family; None for a token
    without one), so `me.sessions` can mark the caller's.
    """

    request: Any
    response: Any = None
    user: Any = field(default_factory=AnonymousUser)
    auth_error: str | None = None
    access_expires_at: datetime | None = None
    session: uuid.UUID | None = None
    client_ip: str = ""
    # What the client says it is (the User-Agent header, cut to 255
    # characters): shown with its sign-in sessions, never trusted.
    user_agent: str = ""
    connection_params: dict | None = None
    _loaders: dict = field(default_factory=dict)
    _url_base: str | None = None

    def absolute_url(self, url: str) -> str:
        """`url` with this request's scheme and host, as clients need for media.

        The base is worked out once per request: a listing builds a hundred.
        """
        if "://" in url or not url.startswith("/"):
            return url
        if self._url_base is None:
            build = getattr(self.request, "build_absolute_uri", None)
            self._url_base = build("/").rstrip("/") if build else ""
        return self._url_base + url

    def loader(self, factory: Callable[["Context"], L]) -> L:
        """One dataloader of each kind per request, so batches are shared."""
        if factory not in self._loaders:
            self._loaders[factory] = factory(self)
        return self._loaders[factory]

    async def authenticate(self, header: str | None) -> None:
        self.user, self.auth_error, self.access_expires_at = AnonymousUser(), None, None
        self.session = None
        if not header:
            return
        token = token_from_header(header)
        if token is None:
            self.auth_error = "The Authorization header must be 'Bearer <token>'."
            return
        try:
            user = await sync_to_async(user_from_access_token)(token)
            self.user, self.access_expires_at = user, access_token_expiry(token)
            self.session = access_token_session(token)
        except InvalidAccessToken as error:
            self.auth_error = str(error)
        # strawberry-django and Django helpers look for the user on the request.
        if hasattr(self.request, "user") or hasattr(self.request, "META"):
            try:
                self.request.user = self.user
            except AttributeError:
                pass
