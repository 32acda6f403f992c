"""strawberry-django's query optimizer, without a hook on every field.

DjangoOptimizerExtension has a `resolve` hook, which strawberry turns into
graphql-core middleware: a wrapper around every field's resolver, the ~2,300
fields of a product listing included, almost all of them scalars read from an
attribute. What the hook does is optimise (and fetch) a QuerySet or Manager
that a resolver returned synchronously, which only a field of an object type
(or a list of them) can return: a scalar field's value is never a queryset.

So OptimizerExtension keeps the extension's `on_execute` (which makes it the
optimizer strawberry-django's own fields call from their `get_queryset`, for
root lists, connections, nested lists and `node`) but has no `resolve` hook,
and `optimize_returned_querysets` wraps, once, when the schema is built, the
resolvers of the fields whose type is an object, interface or union, with
the hook's own code. Same optimisation, same queries; no middleware.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.db.models.manager import BaseManager
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationType,
    default_field_resolver,
    get_named_type,
    is_composite_type,
)
from strawberry.extensions import SchemaExtension
from strawberry_django.optimizer import DjangoOptimizerExtension, OptimizerConfig, optimize
from strawberry_django.optimizer import optimizer as current_optimizer
from strawberry_django.resolvers import django_fetch


class OptimizerExtension(DjangoOptimizerExtension):
    """The optimizer, active for the operation, with no per-field middleware
    (see the module's docstring)."""

    resolve = SchemaExtension.resolve  # type: ignore[assignment]  # strawberry adds middleware only for an override


def optimize_returned_querysets(schema: GraphQLSchema) -> None:
    """Wrap the resolver of every field that can return objects with what
    DjangoOptimizerExtension.resolve does to their result."""
    for name, named_type in schema.type_map.items():
        if name.startswith("__") or not isinstance(named_type, GraphQLObjectType):
            continue
        for field in named_type.fields.values():
            if is_composite_type(get_named_type(field.type)) and not getattr(
                field.resolve, "optimizes_querysets", False
            ):
                field.resolve = _optimizing(field)


def _optimizing(field: GraphQLField) -> Callable[..., Any]:
    resolve = field.resolve or default_field_resolver

    def resolve_optimized(root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        result = resolve(root, info, *args, **kwargs)
        extension = current_optimizer.get()
        if extension is None or not extension.enabled.get():
            return result
        return _optimized(result, info, extension)

    resolve_optimized.optimizes_querysets = True  # type: ignore[attr-defined]
    # strawberry reads this to tell a field without a resolver of its own
    resolve_optimized._is_default = getattr(resolve, "_is_default", False)  # type: ignore[attr-defined]
    return resolve_optimized


def _optimized(result: Any, info: GraphQLResolveInfo, extension: DjangoOptimizerExtension) -> Any:
    """DjangoOptimizerExtension.resolve's work on a resolver's result
    (strawberry-django 0.93)."""
    if isinstance(result, BaseManager):
        result = result.all()
    if isinstance(result, QuerySet) and result._result_cache is None:
        config = OptimizerConfig(
            enable_only=extension.enable_only and info.operation.operation == OperationType.QUERY,
            enable_select_related=extension.enable_select_related,
            enable_prefetch_related=extension.enable_prefetch_related,
            enable_annotate=extension.enable_annotate_optimization,
            prefetch_custom_queryset=extension.prefetch_custom_queryset,
            enable_nested_relations_prefetch=extension.enable_nested_relations_prefetch,
        )
        result = django_fetch(optimize(qs=result, info=info, config=config))
    return result
