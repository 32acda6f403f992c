"""Global IDs in arguments: what they name, or a clear answer when they
name nothing. A malformed ID, one of another type and an unknown one are the
client's mistake, never a server error."""

import inspect
from collections.abc import Sequence
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from strawberry import Info, relay
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import cast as strawberry_cast

from apps.core.errors import NotFound
from apps.core.ids import parse_pk
from schema.errors import bad_user_input

M = TypeVar("M", bound=Model)


def pk_from_global_id(value: str | None, type_name: str) -> int | None:
    """The database id inside a global ID of `type_name`; None for anything else."""
    try:
        global_id = relay.GlobalID.from_id(value or "")
        if global_id.type_name == type_name:
            return parse_pk(global_id.node_id)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        pass
    return None


def decode_id(value: str, type_name: str) -> int:
    """The database id inside a global ID of `type_name` given as a query
    argument (a filter); anything else is BAD_USER_INPUT."""
    pk = pk_from_global_id(value, type_name)
    if pk is None:
        raise bad_user_input(f"This is not a {type_name} ID.")
    return pk


def get_node(queryset: QuerySet[M], global_id: str | None, *, type_name: str, field: str) -> M:
    """The object a global ID names, or NOT_FOUND on `field` (snake_case)."""
    pk = pk_from_global_id(global_id, type_name)
    try:
        return queryset.get(pk=pk)
    except ObjectDoesNotExist:
        raise NotFound(f"No {type_name} with this ID.", field=field) from None


def get_nodes(queryset: QuerySet[M], global_ids: Sequence[str], *, type_name: str,
              field: str) -> list[M]:
    """All the objects, in order, or NOT_FOUND on the first unknown one
    (`field.N`)."""
    pks = [pk_from_global_id(global_id, type_name) for global_id in global_ids]
    found = queryset.in_bulk([pk for pk in pks if pk is not None])
    for index, pk in enumerate(pks):
        if pk not in found:
            raise NotFound(f"No {type_name} with this ID.", field=f"{field}.{index}")
    return [found[pk] for pk in pks]


def node_type_of(info: Info, value: str) -> tuple[type[relay.Node], int] | None:
    """The Node type and database id a global ID names; None when it names no
    object of this schema (an unknown type, a type that is not a Node, an id
    that is not a positive integer).

    A string that is not a global ID at all is BAD_USER_INPUT; the message
    never repeats it, since it may be anything a prober sent.
    """
    try:
        global_id = relay.GlobalID.from_id(value)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        raise bad_user_input("This is not a valid ID.") from None
    definition = info.schema.get_type_by_name(global_id.type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    origin = definition.origin
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return None
    pk = pk_from_global_id(value, global_id.type_name)
    return None if pk is None else (origin, pk)


def resolve_node(info: Info, value: str) -> Any:
    """`node(id:)`: the object, through its type's own visibility rules, or None."""
    found = node_type_of(info, value)
    if found is None:
        return None
    node_type, pk = found
    node = node_type.resolve_node(str(pk), info=info, required=False)
    if inspect.isawaitable(node):
        raise TypeError(f"{node_type.__name__}.resolve_node must be synchronous here.")
    # Cast, so the interface resolves to this type without guessing it from
    # the model (two types may share one).
    return strawberry_cast(node_type, node)
