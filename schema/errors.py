"""How failures reach the client.

Refused writes are data: a payload's `errors: [UserError!]!`. Missing
credentials and permissions are top-level errors coded UNAUTHENTICATED or
FORBIDDEN (API.md, Errors).
"""

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from django.core.exceptions import ValidationError
from graphql import GraphQLError
from strawberry.extensions import FieldExtension

from apps.core.errors import ErrorCode as DomainErrorCode
from apps.core.errors import ServiceError

# strawberry.enum marks the domain's enum in place, so it is the GraphQL one
# (and a type to mypy, which the call's result is not).
strawberry.enum(DomainErrorCode, name="ErrorCode")
ErrorCode = DomainErrorCode

# Top-level codes of requests that never reached execution.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """Give `error` the code unless it already carries one."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


@strawberry.type
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, in camelCase as the client sent it."
    )
    message: str
    code: ErrorCode


@strawberry.type
class Payload:
    """The base of every mutation's answer: what it wrote, or why it wrote
    nothing. Subclasses add the written objects, all optional."""

    errors: list[UserError] = strawberry.field(default_factory=list)


def camel_case(path: str) -> str:
    def one(part: str) -> str:
        head, *rest = part.split("_")
        return head + "".join(word.title() for word in rest)

    return ".".join(one(part) for part in path.split("."))


def user_errors(error: ServiceError) -> list[UserError]:
    return [
        UserError(
            field=camel_case(item.field) if item.field else None,
            message=item.message,
            code=item.code,
        )
        for item in error.errors
    ]


class UserErrorsExtension(FieldExtension):
    """Answer a mutation whose service refused with `Payload(errors=[...])`.

    Every mutation payload has `errors` and only optional other fields, so the
    payload class can be built from the errors alone.
    """

    def apply(self, field) -> None:
        self.field = field

    def _payload(self, error: ServiceError | ValidationError) -> Any:
        if isinstance(error, ValidationError):
            error = ServiceError.from_validation_error(error)
        payload_type = self.field.type
        return payload_type(errors=user_errors(error), **getattr(error, "payload", {}))

    def resolve(self, next_, source, info, **kwargs):
        # strawberry-django runs a sync resolver through sync_to_async when the
        # request is async, so a "sync" field may still hand back an awaitable.
        try:
            result = next_(source, info, **kwargs)
        except (ServiceError, ValidationError) as error:
            return self._payload(error)
        if inspect.isawaitable(result):
            return self._await(result)
        return result

    async def resolve_async(self, next_, source, info, **kwargs):
        try:
            result = next_(source, info, **kwargs)
        except (ServiceError, ValidationError) as error:
            return self._payload(error)
        return await self._await(result) if inspect.isawaitable(result) else result

    async def _await(self, awaitable):
        try:
            return await awaitable
        except (ServiceError, ValidationError) as error:
            return self._payload(error)


def unauthenticated(message: str = "Sign in to do this.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def forbidden(message: str = "You do not have permission to do this.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def bad_user_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


def payload_mutation(
    *, extensions: Sequence[FieldExtension] = (), **kwargs: Any
) -> Callable[[Callable[..., Any]], Any]:
    """A mutation field whose refused writes come back as `Payload.errors`.
    `extensions` go outside, so the field's rule (schema.permissions) runs first."""
    import strawberry_django

    return strawberry_django.mutation(
        extensions=[UserErrorsExtension(), *extensions], **kwargs
    )
