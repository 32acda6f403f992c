"""Global IDs in arguments: what they name, or a clear answer when they
name nothing. A malformed ID, one of another type and an unknown one are the
client's mistake, never a server error."""

from collections.abc import Sequence
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from strawberry import relay

from apps.core.errors import NotFound
from schema.errors import bad_user_input


M = TypeVar("M", bound=Model)

# Primary keys are 64-bit (BigAutoField); a larger number overflows the driver.
MAX_PK = 2**63 - 1


def pk_from_global_id(value: str | None, type_name: str) -> int | None:
    """The database id inside a global ID of `type_name`; None for anything else."""
    try:
        global_id = relay.GlobalID.from_id(value or "")
        if global_id.type_name == type_name:
            pk = int(global_id.node_id)
            return pk if 0 < pk <= MAX_PK else None
    except (relay.GlobalIDValueError, ValueError, TypeError):
        pass
    return None


def decode_id(value: str, type_name: str) -> int:
    """The database id inside a global ID of `type_name` given as a query
    argument (a filter); anything else is BAD_USER_INPUT."""
    pk = pk_from_global_id(value, type_name)
    if pk is None:
        raise bad_user_input(f"{value!r} is not a {type_name} ID.")
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
