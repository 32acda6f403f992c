"""Plain fields: scalars read straight off their object, which the executor
answers without calling a resolver (schema/executor.py).

A product listing resolves ~2,300 fields; two in three are a model column or
a dataclass attribute (`name`, `slug`, `Money.amount`, an edge's `cursor`) or
a Node's `id`. Through graphql-core and strawberry each costs an info object,
strawberry's resolver wrapper (arguments, field extensions, a second info),
strawberry-django's `get_result` and the generic completion. A plain field
has no resolver of its own, no arguments, no field extension (so no rule)
and a scalar type; its value is `getattr(obj, name)`, which for an object
whose class has no data descriptor of that name is `obj.__dict__[name]`.

`PlainField.read` gives that value serialised, or MISSING whenever anything
is not as expected (another kind of object, a deferred column, a null in a
non-null field, a value the scalar refuses); the executor then resolves the
field the ordinary way, which answers exactly as before, errors included.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from graphql import GraphQLNonNull, GraphQLScalarType, GraphQLSchema, Undefined
from strawberry import relay
from strawberry.relay.utils import to_base64
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry_django.fields.field import StrawberryDjangoField
from strawberry_django.relay.utils import resolve_model_id

from schema.direct_fields import published_fields

MISSING: Any = object()


@dataclass(eq=False)
class PlainField:
    """How to read one plain field; `node_type` is set for a Node's `id`,
    whose value is the global ID of the object's primary key."""

    attname: str
    serialize: Any
    non_null: bool
    node_type: str | None = None
    # Per class of object met: whether getattr is a read of __dict__ for it.
    plain_for: dict[type, bool] = field(default_factory=dict)

    def is_plain_for(self, cls: type) -> bool:
        """Whether the field of an object of this class is its __dict__'s."""
        plain = self.plain_for.get(cls)
        if plain is None:
            plain = self.plain_for[cls] = self._plain_for(cls)
        return plain

    def read(self, source: Any) -> Any:
        if not self.is_plain_for(type(source)):
            return MISSING
        value = source.__dict__.get(self.attname, MISSING)
        if value is None:
            return MISSING if self.non_null else None
        if value is MISSING:
            return MISSING
        try:
            if self.node_type is not None:
                return to_base64(self.node_type, str(value))
            serialized = self.serialize(value)
        except Exception:  # the ordinary path reports it, located and coded
            return MISSING
        return MISSING if serialized is None or serialized is Undefined else serialized

    def _plain_for(self, cls: type) -> bool:
        if getattr(cls, "__getattribute__") is not object.__getattribute__:  # noqa: B009
            return False
        if self.node_type is not None and (
            not issubclass(cls, models.Model) or issubclass(cls, relay.Node)
        ):
            return False  # a Node instance may resolve its own id
        try:
            attribute = inspect.getattr_static(cls, self.attname)
        except AttributeError:
            return True  # an instance attribute only
        # A data descriptor (a property, a relation, a file) wins over __dict__.
        return not (hasattr(type(attribute), "__set__") or hasattr(type(attribute), "__delete__"))


PlainFields = dict[str, dict[str, PlainField]]


def plain_fields(schema: GraphQLSchema) -> PlainFields:
    """The plain fields of every object type, by type name and field name."""
    found: PlainFields = {}
    for name, definition, graphql_type, graphql_name, strawberry_field in published_fields(schema):
        plain = _plain(definition, strawberry_field, graphql_type.fields[graphql_name].type, name)
        if plain is not None:
            found.setdefault(name, {})[graphql_name] = plain
    return found


def _plain(definition: StrawberryObjectDefinition, strawberry_field: StrawberryField,
           graphql_type: Any, type_name: str) -> PlainField | None:
    non_null = isinstance(graphql_type, GraphQLNonNull)
    scalar = graphql_type.of_type if non_null else graphql_type
    if not isinstance(scalar, GraphQLScalarType) or strawberry_field.extensions or (
        strawberry_field.arguments
    ):
        return None
    if _is_default_node_id(definition, strawberry_field):
        origin = definition.origin
        return PlainField(attname=origin.resolve_id_attr(), serialize=str, non_null=non_null,
                          node_type=type_name)
    if strawberry_field.base_resolver is not None:
        return None
    kind = type(strawberry_field)
    if isinstance(strawberry_field, StrawberryDjangoField) and kind is StrawberryDjangoField:
        attname = strawberry_field.django_name or strawberry_field.python_name
    elif kind is StrawberryField and strawberry_field.default_resolver is getattr:
        attname = strawberry_field.python_name
    else:
        return None
    return PlainField(attname=attname, serialize=scalar.serialize, non_null=non_null)


def _is_default_node_id(definition: StrawberryObjectDefinition,
                        strawberry_field: StrawberryField) -> bool:
    """A Node's `id` field, resolved by relay's own resolver from the
    NodeID attribute with relay's resolve_typename and relay's or
    strawberry-django's resolve_id."""
    origin = definition.origin
    resolver = strawberry_field.base_resolver
    return (
        isinstance(origin, type) and issubclass(origin, relay.Node)
        and resolver is not None and resolver.name == "_id"
        and getattr(resolver.wrapped_func, "__func__", None) is _NODE_ID_RESOLVER
        and getattr(origin.resolve_id, "__func__", None) in _ID_RESOLVERS
        and origin.resolve_id_attr() != "pk"
        and origin.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    )


def _node_id_resolver() -> Any:
    node_id = next(f for f in relay.Node.__strawberry_definition__.fields  # type: ignore[attr-defined]
                   if f.python_name == "_id" or f.graphql_name == "id")
    return getattr(node_id.base_resolver.wrapped_func, "__func__", None)


_NODE_ID_RESOLVER = _node_id_resolver()
# relay's own (getattr) and strawberry-django's (the instance's __dict__):
# both read the id attribute of an object whose class leaves it plain.
_ID_RESOLVERS = (relay.Node.resolve_id.__func__, resolve_model_id)  # type: ignore[attr-defined]
