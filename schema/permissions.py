"""Who may call what, declared on each field where it is defined.

Every root Query, Mutation and Subscription field carries exactly one rule,
as a field extension (tests/test_authorisation.py fails on one without):

    @strawberry_django.field(extensions=[Public()])
    @payload_mutation(extensions=[SignedIn()])
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)])

A non-root field that is not for everyone who can reach its object declares
its rule the same way (`ProductVariant.stocks`). The rule runs before the
resolver and refuses with a top-level error, UNAUTHENTICATED for an anonymous
caller and FORBIDDEN for one signed in without the permission; it never hides
data by answering null or an empty list (that would read as "there is
nothing"). Which objects a caller sees is the type's business, not the
field's: each Node type's `get_queryset` applies its domain's `*_visible_to`
selector, so lists, nested fields and `node(id:)` follow one rule.

The names differ from strawberry-django's `HasPerm` and `IsAuthenticated` on
purpose: those answer null or empty when they refuse, and know nothing of
`Perm` or of our staff rule (`staff_has_perm`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any, Protocol

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from graphql import GraphQLError
from strawberry import Info
from strawberry.extensions import FieldExtension
from strawberry.utils.inspect import in_async_context

from apps.accounts.models import User
from apps.accounts.permissions import Perm, staff_has_perm
from schema.errors import forbidden, unauthenticated

Resolver = Callable[..., Any]


def current_user(info: Info) -> User | None:
    """The signed-in user, or None for an anonymous caller."""
    user: User | AnonymousUser = info.context.user
    return user if isinstance(user, User) and user.is_authenticated else None


def signed_in_user(info: Info) -> User:
    """The caller of a field whose rule (SignedIn or StaffPerm) let them in."""
    user = current_user(info)
    if user is None:
        # Only a field wrongly declared Public gets here anonymously: a bug,
        # but the caller still gets an honest answer rather than a 500.
        raise unauthenticated()
    return user


def refusal(info: Info) -> GraphQLError:
    """How to refuse this caller something a selector said they may not have:
    sign in first, or you lack the permission."""
    return unauthenticated() if current_user(info) is None else forbidden()


async def _settled(result: Any) -> Any:
    while inspect.isawaitable(result):
        result = await result
    return result


class Rule(FieldExtension):
    """A field's authorisation rule: `refuse(user)` says why this caller may
    not, or None to let them through.

    It runs before the resolver, on the event loop under the async view. A
    decision that reads the database (a staff member's permissions, the first
    time in a request) runs in a thread first, then the resolver as it would
    have; any other decision costs nothing.
    """

    def refuse(self, user: User | None) -> GraphQLError | None:
        raise NotImplementedError

    def needs_query(self, user: User | None) -> bool:
        """Whether deciding for `user` reads the database (which must not
        happen on the event loop)."""
        return False

    def _check(self, user: User | None) -> None:
        error = self.refuse(user)
        if error is not None:
            raise error

    def resolve(
        self, next_: Resolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        user = current_user(info)
        if in_async_context() and self.needs_query(user):
            return self._after_async_check(user, next_, source, info, kwargs)
        self._check(user)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Resolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        user = current_user(info)
        if self.needs_query(user):
            await sync_to_async(self._check)(user)
        else:
            self._check(user)
        result = next_(source, info, **kwargs)
        # A subscription's resolver hands back its async generator as is.
        return result if inspect.isasyncgen(result) else await _settled(result)

    def _after_async_check(
        self, user: User | None, next_: Resolver, source: Any, info: Info,
        kwargs: dict[str, Any],
    ) -> Awaitable[Any]:
        async def checked() -> Any:
            await sync_to_async(self._check)(user)
            return await _settled(next_(source, info, **kwargs))

        return checked()


class Public(Rule):
    """Anyone, signed in or not. Saying so is the point: a root field with no
    rule fails the tests."""

    def refuse(self, user: User | None) -> GraphQLError | None:
        return None

    @cached_property
    def has_resolver(self) -> bool:
        # Nothing to check, so it stays out of the resolver chain: a public
        # field resolves exactly as if it had no extension.
        return False


class SignedIn(Rule):
    """Any signed-in user; the resolver stays within the caller's own data."""

    def refuse(self, user: User | None) -> GraphQLError | None:
        return unauthenticated() if user is None else None


class StaffPerm(Rule):
    """Staff holding `perm` (apps.accounts.permissions.staff_has_perm)."""

    def __init__(self, perm: Perm) -> None:
        super().__init__()
        self.perm = perm

    def refuse(self, user: User | None) -> GraphQLError | None:
        if user is None:
            return unauthenticated()
        return None if staff_has_perm(user, self.perm) else forbidden()

    def needs_query(self, user: User | None) -> bool:
        return user is not None and user.is_staff and not _permissions_loaded(user)


def _permissions_loaded(user: AbstractBaseUser) -> bool:
    """Whether `has_perm` answers without a query: an active superuser has
    every permission, and Django's ModelBackend keeps what it read on the user
    (`_perm_cache`) for the rest of the request."""
    return bool(getattr(user, "is_superuser", False) and user.is_active) or hasattr(
        user, "_perm_cache"
    )


__all__ = [
    "Public",
    "Rule",
    "SignedIn",
    "StaffPerm",
    "current_user",
    "refusal",
    "signed_in_user",
]


class VisibleTo(Protocol):
    def __call__(self, *, user: Any, queryset: QuerySet[Any] | None = None) -> QuerySet[Any]: ...


def visible_through(selector: VisibleTo) -> classmethod[Any, Any, QuerySet[Any]]:
    """A Node type's `get_queryset`: the objects the domain's `*_visible_to`
    selector lets the caller see. Written `get_queryset = visible_through(...)`,
    so that a type's visibility is one line naming its selector."""

    def get_queryset(cls: type, queryset: QuerySet[Any], info: Info,
                     **kwargs: Any) -> QuerySet[Any]:
        return selector(user=current_user(info), queryset=queryset)

    return classmethod(get_queryset)
