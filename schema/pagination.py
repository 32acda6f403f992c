from typing import Any

import strawberry
from django.conf import settings
from strawberry import Info, relay
from strawberry_django.relay import DjangoListConnection

from schema.errors import bad_user_input


def check_page_size(first: int | None, last: int | None) -> None:
    """`first`/`last` above the cap is an error, never a silent cut (API.md)."""
    cap = settings.GRAPHQL_MAX_PAGE_SIZE
    for name, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value < 0:
            raise bad_user_input(f"`{name}` must not be negative.")
        if value > cap:
            raise bad_user_input(f"`{name}` must be at most {cap}; got {value}.")


@strawberry.type(name="Connection", description="A page of a list, with its total count.")
class CountableConnection(DjangoListConnection[relay.NodeType]):
    @classmethod
    def resolve_connection(
        cls,
        nodes: Any,
        *,
        info: Info,
        before: str | None = None,
        after: str | None = None,
        first: int | None = None,
        last: int | None = None,
        **kwargs: Any,
    ):
        check_page_size(first, last)
        return super().resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
