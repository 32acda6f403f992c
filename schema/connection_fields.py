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
            return sync_to_async(super().resolve)(next_, source, info, **kwargs)
        return super().resolve(next_, source, info, **kwargs)


def connection(graphql_type: Any, **kwargs: Any) -> Any:
    """strawberry_django.connection, with OneHopConnectionExtension."""
    field = strawberry_django.connection(graphql_type, **kwargs)
    field.extensions = [
        OneHopConnectionExtension(max_results=extension.max_results)
        if type(extension) is StrawberryDjangoConnectionExtension else extension
        for extension in field.extensions
    ]
    return field
