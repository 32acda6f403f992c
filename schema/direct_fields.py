"""Direct resolvers: fields whose ordinary resolver chain does nothing but
read an attribute or call one small function, given a resolver that does
just that, once, when the schema is built (schema/schema.py).

After the plain fields (schema/plain_fields.py), a product listing still
resolved ~800 fields a page through strawberry's resolver wrapper (an Info,
the argument conversion, the field-extension chain, strawberry-django's
`get_result`) and the optimizer's queryset check, for:

- an object taken straight off its parent: an edge's `node`, a dataclass
  attribute (`PriceRange.start`), a foreign key the page's query already
  loaded (`Product.category`, from select_related);
- a card resolver marked `async_safe` (`thumbnail`, `priceRange`, `rating`,
  `isAvailable`): a sync function of `self`, `root` and `info` that never
  queries, and returns no Django type (so nothing for the optimizer or
  strawberry-django's queryset hook to do).

A direct read takes the value from the object's `__dict__` (or the foreign
key's cache) and falls back to the field's own resolver whenever anything
is not as expected (another kind of object, nothing cached); a direct call
calls the function as strawberry would, with the same arguments. graphql-core
still completes the value, so errors, nulls and types answer exactly as
before.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.db.models.manager import BaseManager
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, get_named_type, is_composite_type
from strawberry.types.base import StrawberryList, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.utils.typing import get_django_definition

MISSING: Any = object()
Resolver = Callable[..., Any]


def published_fields(schema: GraphQLSchema) -> Iterator[
    tuple[str, StrawberryObjectDefinition, GraphQLObjectType, str, StrawberryField]
]:
    """Every field of every object type but the roots', with its strawberry
    field, as strawberry's converter names them (a Django Node's NodeID
    attribute is not one: relay's `id` is)."""
    strawberry_schema = schema._strawberry_schema  # type: ignore[attr-defined]
    roots = {t.name for t in (schema.query_type, schema.mutation_type,
                              schema.subscription_type) if t is not None}
    name_of = strawberry_schema.config.name_converter.get_graphql_name
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in roots or not isinstance(
            graphql_type, GraphQLObjectType
        ):
            continue
        definition = strawberry_schema.get_type_by_name(name)
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for strawberry_field in strawberry_schema.get_fields(definition):
            graphql_name = name_of(strawberry_field)
            if not is_private(strawberry_field.type) and graphql_name in graphql_type.fields:
                yield name, definition, graphql_type, graphql_name, strawberry_field


def use_direct_resolvers(schema: GraphQLSchema) -> None:
    """Give the fields described in the module's docstring their direct
    resolver (before the optimizer wraps what is left)."""
    converter = schema._strawberry_schema.schema_converter  # type: ignore[attr-defined]
    info_class = schema._strawberry_schema.config.info_class  # type: ignore[attr-defined]
    for _, _, graphql_type, graphql_name, strawberry_field in published_fields(schema):
        graphql_field = graphql_type.fields[graphql_name]
        if (strawberry_field.extensions or strawberry_field.arguments or graphql_field.args
                or converter._get_field_exception_handlers(strawberry_field)):
            continue
        direct = (_direct_read(strawberry_field, graphql_field)
                  or _direct_call(strawberry_field, info_class))
        if direct is not None:
            direct.optimizes_querysets = True  # type: ignore[attr-defined]  # schema/optimizer.py
            direct._is_default = getattr(  # type: ignore[attr-defined]
                graphql_field.resolve, "_is_default", False)
            graphql_field.resolve = direct


def _direct_read(strawberry_field: StrawberryField, graphql_field: GraphQLField
                 ) -> Resolver | None:
    """An object field read straight off its parent, falling back to its own
    resolver."""
    if strawberry_field.base_resolver is not None or not is_composite_type(
        get_named_type(graphql_field.type)
    ) or graphql_field.resolve is None:
        return None
    kind = type(strawberry_field)
    if kind is StrawberryDjangoField:
        attname = strawberry_field.django_name or strawberry_field.python_name  # type: ignore[attr-defined]
        if _is_list(strawberry_field):
            return None  # a relation's rows go through its type's get_queryset
    elif kind is StrawberryField and strawberry_field.default_resolver is getattr:
        attname = strawberry_field.python_name
    else:
        return None
    fallback = graphql_field.resolve
    readers: dict[type, Callable[[Any], Any] | None] = {}

    def read(source: Any) -> Any:
        """The value read off `source`, or MISSING."""
        cls = type(source)
        try:
            reader = readers[cls]
        except KeyError:
            reader = readers[cls] = _reader(cls, attname)
        if reader is None:
            return MISSING
        value = reader(source)
        # A queryset is the optimizer's to fetch (schema/optimizer.py).
        return MISSING if isinstance(value, (QuerySet, BaseManager)) else value

    def resolve_direct(source: Any, info: Any, **kwargs: Any) -> Any:
        value = read(source)
        if value is not MISSING:
            return value
        return fallback(source, info, **kwargs)

    resolve_direct.direct_read = read  # type: ignore[attr-defined]  # schema/compiled.py
    return resolve_direct


def _reader(cls: type, attname: str) -> Callable[[Any], Any] | None:
    """How to read `attname` off an instance of `cls` without its resolver:
    its __dict__ for a plain attribute, the relation's cache for a foreign
    key; None when neither applies."""
    if getattr(cls, "__getattribute__") is not object.__getattribute__:  # noqa: B009
        return None
    try:
        attribute = inspect.getattr_static(cls, attname)
    except AttributeError:
        return lambda source: source.__dict__.get(attname, MISSING)
    if isinstance(attribute, ForwardManyToOneDescriptor):
        cache_name = attribute.field.cache_name

        def cached(source: Any) -> Any:
            return source._state.fields_cache.get(cache_name, MISSING)

        return cached
    if hasattr(type(attribute), "__set__") or hasattr(type(attribute), "__delete__"):
        return None  # a property or another data descriptor wins over __dict__
    return lambda source: source.__dict__.get(attname, MISSING)


def _direct_call(strawberry_field: StrawberryField, info_class: type) -> Resolver | None:
    """A sync `async_safe` resolver of self, root and info, returning no
    Django type, called as strawberry would call it."""
    resolver = strawberry_field.base_resolver
    if (resolver is None or type(strawberry_field) is not StrawberryDjangoField
            or resolver.is_async or not getattr(resolver.wrapped_func, "is_async_safe", False)
            or _is_list(strawberry_field) or _is_django_type(strawberry_field)):
        return None
    reserved = [p for p in (resolver.self_parameter, resolver.root_parameter,
                            resolver.parent_parameter, resolver.info_parameter) if p is not None]
    if len(reserved) != len(resolver.signature.parameters):
        return None  # an argument of its own (there should be none without GraphQL args)
    func: Any = resolver.wrapped_func
    with_self = resolver.self_parameter is not None
    roots = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve_direct(source: Any, info: Any) -> Any:
        kwargs = dict.fromkeys(roots, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=strawberry_field)
        return func(source, **kwargs) if with_self else func(**kwargs)

    resolve_direct.direct_call = True  # type: ignore[attr-defined]  # schema/compiled.py
    resolve_direct.call = DirectCall(  # type: ignore[attr-defined]
        func=func, with_self=with_self, roots=tuple(roots), info_name=info_name,
        field=strawberry_field, info_class=info_class)
    return resolve_direct


@dataclass(frozen=True)
class DirectCall:
    """How a direct call calls its function: what schema/compiled.py needs
    to call it with an info of its own."""

    func: Callable[..., Any]
    with_self: bool
    roots: tuple[str, ...]
    info_name: str | None
    field: StrawberryField
    info_class: type


def _unwrapped(strawberry_field: StrawberryField) -> Any:
    field_type = strawberry_field.type
    while isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    return field_type


def _is_list(strawberry_field: StrawberryField) -> bool:
    field_type = _unwrapped(strawberry_field)
    return isinstance(field_type, StrawberryList) or getattr(
        strawberry_field, "is_connection", False
    ) or getattr(strawberry_field, "is_paginated", False)


def _is_django_type(strawberry_field: StrawberryField) -> bool:
    try:
        return get_django_definition(_unwrapped(strawberry_field)) is not None
    except (KeyError, ImportError, TypeError):
        return True  # unsure: the ordinary path
