import base64
import binascii
from typing import Any

import strawberry
from django.conf import settings
from strawberry import Info, relay
from strawberry.relay.types import PREFIX
from strawberry_django.relay import DjangoListConnection

from schema.errors import bad_user_input

# An offset past this cannot name a row, and larger numbers overflow the
# databases' OFFSET (a signed 64-bit integer) once the page is added.
MAX_OFFSET = 2**62


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


def cursor_offset(cursor: str) -> int | None:
    """The list offset inside a cursor this server made; None for anything else.

    strawberry decodes cursors leniently and lets the errors escape as
    exceptions; a cursor is opaque to clients, so any other string is their
    mistake.
    """
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (UnicodeError, binascii.Error):
        return None
    prefix, _, offset = text.partition(":")
    if prefix != PREFIX or not offset.isascii() or not offset.isdigit():
        return None
    value = int(offset)
    return value if value <= MAX_OFFSET else None


def check_cursors(before: str | None, after: str | None) -> None:
    for name, value in (("before", before), ("after", after)):
        if value is not None and cursor_offset(value) is None:
            raise bad_user_input(f"`{name}` is not a cursor of this list.")


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
        check_cursors(before, after)
        return super().resolve_connection(
            nodes, info=info, before=before, after=after, first=first, last=last, **kwargs
        )
