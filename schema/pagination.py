"""Connections: the page size cap, cursors that are this server's or an
error, and keyset pagination with a capped count for the catalog's lists."""

import asyncio
import base64
import binascii
import json
from collections.abc import Sequence, Sized
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, F, OrderBy, Q, QuerySet, Value
from django.db.models.expressions import CombinedExpression, Expression
from strawberry import Info, relay
from strawberry.relay.types import PREFIX
from strawberry.utils.inspect import in_async_context
from strawberry_django.optimizer import is_optimized_by_prefetching
from strawberry_django.relay import DjangoListConnection
from strawberry_django.relay.utils import resolve_edge_class

from schema.connection_fields import selected_fields
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


# --- Keyset pagination --------------------------------------------------------------------
#
# An offset cursor makes the database read and throw away every row before
# the page, so page 500 of a large list costs 500 pages. A keyset cursor holds
# the sort keys of the row it names instead, and the next page is "the rows
# whose keys come after these", which an index on the keys answers by
# starting there. The cursor stays an opaque base64 string to clients.

KEYSET_PREFIX = "keyset"


class RowCompare(Expression):
    """`(a, b, ...) > (x, y, ...)` (or `<`): SQL's row comparison, which both
    PostgreSQL (as an index range) and SQLite understand, where the
    equivalent `a > x OR (a = x AND b > y)` makes PostgreSQL scan from the
    start of the index."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, lhs: Sequence[Any], op: str, rhs: Sequence[Any]) -> None:
        super().__init__()
        self.lhs, self.op, self.rhs = list(lhs), op, list(rhs)

    def get_source_expressions(self) -> list[Any]:
        return [*self.lhs, *self.rhs]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.lhs, self.rhs = list(exprs[: len(self.lhs)]), list(exprs[len(self.lhs):])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        groups, params = [], []
        for group in (self.lhs, self.rhs):
            parts = []
            for expression in group:
                sql, part_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(part_params)
            groups.append(f"({', '.join(parts)})")
        return f"{groups[0]} {self.op} {groups[1]}", tuple(params)


def sort_keys(queryset: QuerySet) -> list[OrderBy] | None:
    """The queryset's ordering as OrderBy expressions, or None when it cannot
    be paged by keyset: it must end with the id, which makes it total."""
    order = queryset.query.order_by or (
        queryset.model._meta.ordering if queryset.query.default_ordering else ())
    keys = []
    for item in order:
        if isinstance(item, str):
            name = item.lstrip("-")
            expression = F("id" if name == "pk" else name)
            item = expression.desc() if item.startswith("-") else expression.asc()
        if not isinstance(item, OrderBy):
            return None
        keys.append(item)
    if not keys or not _is_id(keys[-1].expression):
        return None
    return keys


def _is_id(expression: Any) -> bool:
    if isinstance(expression, CombinedExpression):  # -id, written as id * -1
        expression = expression.lhs
    return isinstance(expression, F) and getattr(expression, "name", None) in ("id", "pk")


def _key_name(index: int) -> str:
    return f"_keyset_{index}"


def _after(keys: list[OrderBy], values: list[Any], *, backwards: bool) -> Q:
    """The rows after `values` in the order of `keys` (before them when
    `backwards`). The keys are never null (the selectors see to it)."""
    names = [_key_name(i) for i in range(len(keys))]
    forward = [key.descending == backwards for key in keys]  # True: ascending way
    if all(forward) or not any(forward):
        op = ">" if forward[0] else "<"
        return Q(RowCompare([F(n) for n in names], op,
                            [Value(v) for v in values]))
    # Mixed directions: the first key bounds the scan, the rest decide ties.
    first = Q(**{f"{names[0]}__{'gte' if forward[0] else 'lte'}": values[0]})
    alternatives = Q(pk__in=[])
    for i in range(len(keys)):
        step = Q(**{f"{names[i]}__{'gt' if forward[i] else 'lt'}": values[i]})
        for j in range(i):
            step &= Q(**{names[j]: values[j]})
        alternatives |= step
    return first & alternatives


def _encode(values: list[Any]) -> str:
    return relay.to_base64(KEYSET_PREFIX, json.dumps(
        [str(v) if isinstance(v, Decimal | datetime) else v for v in values],
        separators=(",", ":")))


def _decode(cursor: str, output_fields: list[Any]) -> list[Any] | None:
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("utf-8")
        prefix, _, payload = text.partition(":")
        raw = json.loads(payload) if prefix == KEYSET_PREFIX else None
        if not isinstance(raw, list) or len(raw) != len(output_fields):
            return None
        values = [field.to_python(v) for field, v in zip(output_fields, raw, strict=True)]
    except (UnicodeError, ValueError, TypeError, binascii.Error, ValidationError):
        return None
    return None if any(v is None for v in values) else values


@strawberry.type(name="Connection", description="A page of a list, with its total count.")
class KeysetConnection(CountableConnection[relay.NodeType]):
    """A connection paged by keyset cursors (for lists that grow large: the
    catalog), whose `totalCount` is exact up to GRAPHQL_TOTAL_COUNT_CAP and
    that cap + 1 beyond it, since an exact count visits every matching row."""

    count: strawberry.Private[int | None] = None
    count_task: strawberry.Private[Any] = None

    @strawberry.field(description="How many items the list holds, exactly when "
                      "`totalCountIsExact`; otherwise the count stopped at this number, and "
                      "the list holds at least as many.")
    def total_count(self) -> int | None:
        return self._capped_count(lambda count: count)

    @strawberry.field(description="Whether `totalCount` is the exact number of items: "
                      "it is counted exactly up to a cap (10,000 by default).")
    def total_count_is_exact(self) -> bool:
        return self._capped_count(lambda count: count <= settings.GRAPHQL_TOTAL_COUNT_CAP)

    def _capped_count(self, answer: Any) -> Any:
        """The count, at most cap + 1, queried once for both fields."""
        if self.count is None:
            try:  # a nested list prefetched by the optimizer carries its exact count
                self.count = self.edges[0].node._strawberry_total_count  # type: ignore[attr-defined]
            except (IndexError, AttributeError):
                if not isinstance(self.nodes, QuerySet):
                    self.count = len(self.nodes) if isinstance(self.nodes, Sized) else 0
        if self.count is not None:
            return answer(self.count)
        nodes = self.nodes
        assert isinstance(nodes, QuerySet)
        if not in_async_context():
            self.count = _count_up_to_cap(nodes)
            return answer(self.count)
        if self.count_task is None:
            self.count_task = asyncio.ensure_future(sync_to_async(_count_up_to_cap)(nodes))

        async def later() -> Any:
            return answer(await self.count_task)

        return later()

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
        max_results: int | None = None,
        **kwargs: Any,
    ):
        keys = sort_keys(nodes) if isinstance(nodes, QuerySet) else None
        if keys is None or is_optimized_by_prefetching(nodes):
            return super().resolve_connection(nodes, info=info, before=before, after=after,
                                              first=first, last=last, **kwargs)
        check_page_size(first, last)
        queryset = nodes.annotate(**{_key_name(i): key.expression for i, key in enumerate(keys)})
        fields = [queryset.query.annotations[_key_name(i)].output_field for i in range(len(keys))]
        for name, cursor, backwards in (("after", after, False), ("before", before, True)):
            if cursor is None:
                continue
            values = _decode(cursor, fields)
            if values is None:
                raise bad_user_input(f"`{name}` is not a cursor of this list.")
            queryset = queryset.filter(_after(keys, values, backwards=backwards))
        backwards = last is not None and first is None
        size = first if first is not None else last
        if backwards:
            queryset = queryset.reverse()
        if size is not None:
            queryset = queryset[: size + 1]
        edge_class = resolve_edge_class(cls)

        def finish() -> "KeysetConnection":
            rows = list(queryset)
            more = size is not None and len(rows) > size
            rows = rows[:size] if size is not None else rows
            if backwards:
                rows.reverse()
            if first is not None and last is not None:  # first, then the last of those
                rows = rows[-last:] if last else []
            edges = [
                edge_class(cursor=_encode([getattr(row, _key_name(i)) for i in range(len(keys))]),
                           node=cls.resolve_node(row, info=info, **kwargs))
                for row in rows
            ]
            connection = cls(
                edges=edges,
                page_info=relay.PageInfo(
                    start_cursor=edges[0].cursor if edges else None,
                    end_cursor=edges[-1].cursor if edges else None,
                    has_previous_page=more if backwards else after is not None,
                    has_next_page=before is not None if backwards else more,
                ),
            )
            connection.nodes = nodes
            if _selects_total_count(info):
                # Counted here, in the same thread as the page, rather than
                # by a later hop of its own.
                connection.count = _count_up_to_cap(nodes)
            return connection

        if in_async_context():
            return sync_to_async(finish)()
        return finish()


TOTAL_COUNT_FIELDS = frozenset({"totalCount", "totalCountIsExact"})


def _selects_total_count(info: Info) -> bool:
    """Whether the connection's selection asks for its count, without a
    directive that might leave it out."""
    return any(field.name.value in TOTAL_COUNT_FIELDS and not field.directives
               for field in selected_fields(info))


def _count_up_to_cap(queryset: QuerySet) -> int:
    """Matching rows, counted no further than the cap + 1: the database stops
    there instead of visiting every match."""
    cap = settings.GRAPHQL_TOTAL_COUNT_CAP
    return queryset.order_by().values("pk")[: cap + 1].count()
