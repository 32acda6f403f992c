"""Correlated subqueries on the outer row's primary key, compiled once.

A product card's values are eight correlated subqueries
(apps/catalog/selectors/cards.py). On every listing Django resolves each
against the page's query (a clone of the subquery's query, its aliases
renamed, its OuterRef resolved) and compiles each (a compiler, its select,
its where, its limit): about 5 ms of a 30 ms page on the benchmark
machine, for SQL text that is the same on every request.

`CorrelatedSubquery(build)` stands for `build()`, a Subquery whose only
reference to the outer query is `OuterRef("pk")`. Annotating resolves no
more than that primary key column; compiling resolves and compiles the real
subquery, against the query being compiled, the first time for each
database, outer alias and alias prefix (what the SQL text depends on: the
outer column it names and the inner aliases Django picks after the outer
ones), and reuses its text and parameters after that. The answer is the
subquery's own, with its output field and converters.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Expression, Subquery


class CorrelatedSubquery(Expression):
    contains_aggregate = False
    contains_over_clause = False
    empty_result_set_value = None

    def __init__(self, build: Callable[[], Subquery]) -> None:
        self.build = build
        self.outer: Any = None  # the outer query's primary key column, once resolved
        # Shared by every copy: (database, outer alias, prefix) -> (sql, params)
        self.compiled: dict[tuple[str, str, str], tuple[str, tuple[Any, ...]]] = {}
        super().__init__(output_field=build().output_field)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.build!r})"

    def get_source_expressions(self) -> list[Any]:
        return [] if self.outer is None else [self.outer]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        if exprs:
            (self.outer,) = exprs

    def resolve_expression(self, query: Any = None, allow_joins: bool = True, reuse: Any = None,
                           summarize: bool = False, for_save: bool = False) -> Any:
        clone = self.copy()
        clone.outer = query.resolve_ref("pk", allow_joins, reuse, summarize)
        return clone

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        outer_query = compiler.query
        key = (connection.alias, self.outer.alias, outer_query.alias_prefix)
        known = self.compiled.get(key)
        if known is None:
            subquery = self.build().resolve_expression(outer_query)
            sql, params = compiler.compile(subquery)
            known = self.compiled[key] = (sql, tuple(params))
        return known[0], known[1]
