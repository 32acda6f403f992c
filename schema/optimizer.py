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

from collections import OrderedDict
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
from strawberry import Info
from strawberry.extensions import SchemaExtension
from strawberry_django.optimizer import (
    DjangoOptimizerExtension,
    OptimizerConfig,
    OptimizerStore,
    _get_gql_definition,
    _get_model_hints,
    get_possible_concrete_types,
    is_inheritance_qs,
    is_optimized,
    optimize,
)
from strawberry_django.optimizer import optimizer as current_optimizer
from strawberry_django.queryset import get_queryset_config
from strawberry_django.resolvers import django_fetch

from schema.compiled import directive_variables


class OptimizerExtension(DjangoOptimizerExtension):
    """The optimizer, active for the operation, with no per-field middleware
    (see the module's docstring), and its hints remembered per operation
    (`_remembered_store`)."""

    resolve = SchemaExtension.resolve  # type: ignore[assignment]  # strawberry adds middleware only for an override

    def optimize(self, qs: Any, info: Any, *, store: OptimizerStore | None = None) -> Any:
        if store is not None or not self.enabled.get():
            return super().optimize(qs, info, store=store)
        if isinstance(qs, BaseManager):
            qs = qs.all()
        if not isinstance(qs, QuerySet) or is_optimized(qs) or qs._result_cache is not None:
            return qs
        raw = info._raw_info if isinstance(info, Info) else info
        config = _config(self, raw)
        remembered = _remembered_store(qs, raw, config)
        if remembered is None:
            return super().optimize(qs, info)
        if remembered:
            qs = remembered.copy().apply(qs, info=raw, config=config)
            get_queryset_config(qs).optimized = True
        return qs


# (operation, field nodes, model, schema, the @skip/@include variables'
# values) -> (the operation, its store); the operation is kept so that its
# id cannot be reused while the entry lives.
_STORES: OrderedDict[tuple[Any, ...], tuple[Any, OptimizerStore]] = OrderedDict()
MAX_STORES = 512


def _remembered_store(qs: QuerySet, info: GraphQLResolveInfo, config: OptimizerConfig
                      ) -> OptimizerStore | None:
    """What strawberry-django's `optimize` works out from the selection
    (which columns, joins and annotations), once per operation and place in
    it, rather than walking the selection and the types' hints on every
    request: a thousandth of a second a ProductList page.

    A store with prefetches is worked out each time and not kept (their
    querysets are the viewer's). None (left to strawberry-django's own
    `optimize`) for a model with subclasses or a document whose selections
    carry other directives than @skip/@include."""
    directives = directive_variables(info.operation, info.fragments)
    if directives is None or is_inheritance_qs(qs):
        return None
    # strawberry's infos carry the coerced dict, graphql-core's a container
    coerced: Any = getattr(info.variable_values, "coerced", info.variable_values)
    values = tuple(repr(coerced.get(name)) for name in directives)
    key = (id(info.operation), tuple(id(node) for node in info.field_nodes), qs.model,
           id(info.schema), values, config.enable_only)
    known = _STORES.get(key)
    if known is not None and known[0] is info.operation:
        return known[1]
    schema = info.schema._strawberry_schema  # type: ignore[attr-defined]
    strawberry_type = schema.get_type_by_name(get_named_type(info.return_type).name)
    if strawberry_type is None:
        return None
    store = OptimizerStore()
    for definition in get_possible_concrete_types(qs.model, schema, strawberry_type):
        found = _get_model_hints(qs.model, schema, definition,
                                 parent_type=_get_gql_definition(schema, definition),
                                 info=info, config=config, subclass_collection=None)
        if found is not None:
            store |= found
    if store.prefetch_related:
        return store
    _STORES[key] = (info.operation, store)
    while len(_STORES) > MAX_STORES:
        _STORES.popitem(last=False)
    return store


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
        config = _config(extension, info, enable_nested_relations_prefetch=(
            extension.enable_nested_relations_prefetch))
        result = django_fetch(optimize(qs=result, info=info, config=config))
    return result


def _config(extension: DjangoOptimizerExtension, info: GraphQLResolveInfo,
            **extra: Any) -> OptimizerConfig:
    """The config strawberry-django's extension builds for the operation."""
    return OptimizerConfig(
        enable_only=extension.enable_only and info.operation.operation == OperationType.QUERY,
        enable_select_related=extension.enable_select_related,
        enable_prefetch_related=extension.enable_prefetch_related,
        enable_annotate=extension.enable_annotate_optimization,
        prefetch_custom_queryset=extension.prefetch_custom_queryset,
        **extra,
    )
