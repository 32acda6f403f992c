"""Root connections resolved in one thread hop.

Under the async view, strawberry-django takes a root connection with a sync
resolver through the database thread three times: the resolver (to build
the queryset), the queryset hook (the type's get_queryset, the optimizer),
then the page itself (schema/pagination.py's `finish`), and once more for
its count. Each hop is a future, a wake-up of the event loop and a context
switch (a quarter of a millisecond of CPU each on the benchmark machine);
none of the three waits on anything the event loop could do meanwhile.

`connection()` is strawberry_django.connection whose extension, for a root
field with a sync resolver, runs the whole chain (resolver, hook, page and,
when selected, the count) in a single `sync_to_async` call, where each part
finds no running loop and runs inline. Anything else (a nested connection,
an async resolver, a sync caller) takes strawberry-django's own path.
"""

from typing import Any

import strawberry_django
from asgiref.sync import sync_to_async
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode
from strawberry.utils.inspect import in_async_context
from strawberry_django.fields.field import StrawberryDjangoConnectionExtension


class OneHopConnectionExtension(StrawberryDjangoConnectionExtension):
    """strawberry-django's connection extension, in one thread hop at the root."""

    def apply(self, field: Any) -> None:
        super().apply(field)
        self.field = field

    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        resolver = self.field.base_resolver
        if source is None and resolver is not None and not resolver.is_async and (
            in_async_context()
        ):
            return sync_to_async(self._resolve_and_fill)(next_, source, info, **kwargs)
        return super().resolve(next_, source, info, **kwargs)

    def _resolve_and_fill(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        """The connection, then, still in the database thread, what its node
        type fills ahead for the page (`fill_loaders(nodes, info, selected)`:
        the dataloaders its selected fields read, so that they answer each
        row at once instead of by a coroutine per row)."""
        connection = super().resolve(next_, source, info, **kwargs)
        fill = getattr(self.field.django_type, "fill_loaders", None)
        edges = getattr(connection, "edges", None)
        if fill is not None and edges:
            selected = node_selection(info)
            if selected:
                fill([edge.node for edge in edges], info, selected)
        return connection


def node_selection(info: Any) -> set[str]:
    """The fields a connection's `edges { node { ... } }` selects (those
    under a directive too: filling one more is harmless)."""
    return {field.name.value for field in selected_fields(info, "edges", "node")}


def selected_fields(info: Any, *path: str) -> list[FieldNode]:
    """The field nodes a resolver's selection holds at `path` (field names
    from its own selection down), through inline fragments and spreads."""
    raw = info._raw_info
    fragments = raw.fragments

    def fields_of(selection_sets: list[Any]) -> list[FieldNode]:
        found: list[FieldNode] = []
        stack = list(selection_sets)
        while stack:
            for selection in stack.pop().selections:
                if isinstance(selection, FieldNode):
                    found.append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    stack.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = fragments.get(selection.name.value)
                    if fragment is not None:
                        stack.append(fragment.selection_set)
        return found

    level = [node.selection_set for node in raw.field_nodes if node.selection_set]
    for name in path:
        level = [field.selection_set for field in fields_of(level)
                 if field.name.value == name and field.selection_set]
    return fields_of(level)


def connection(graphql_type: Any, **kwargs: Any) -> Any:
    """strawberry_django.connection, with OneHopConnectionExtension."""
    field = strawberry_django.connection(graphql_type, **kwargs)
    field.extensions = [
        OneHopConnectionExtension(max_results=extension.max_results)
        if type(extension) is StrawberryDjangoConnectionExtension else extension
        for extension in field.extensions
    ]
    return field
