"""The storefront's product list: filters compiled into one condition, and the
orderings."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import and_, or_
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, IContains

from apps.catalog.models import Category, Product, ProductVariant
from apps.catalog.search import relevance_expression, search_condition
from apps.catalog.sort_keys import price_key, rating_key, tie_break
from apps.catalog.selectors.categories import outermost_paths
from apps.catalog.selectors.stock import in_stock_condition
from apps.catalog.selectors.visibility import may_see_unpublished, products_visible_to
from apps.core.errors import ErrorCode, ServiceError

SORT_FIELDS = ("name", "price", "created_at", "rating", "relevance")


@dataclass(frozen=True)
class ProductFilters:
    search: str | None = None
    category_ids: Sequence[int] | None = None
    price_gte: Decimal | None = None
    price_lte: Decimal | None = None
    in_stock: bool | None = None
    min_rating: float | None = None
    # (attribute name, accepted values): the product has the attribute with
    # any of the values; several pairs must all hold.
    attributes: Sequence[tuple[str, Sequence[str]]] = field(default_factory=tuple)
    # Only for catalog managers: product_list refuses it to anyone else.
    is_published: bool | None = None
    # Combinations: all of `all_of`, at least one of `any_of`, not `none_of`.
    all_of: Sequence["ProductFilters"] = field(default_factory=tuple)
    any_of: Sequence["ProductFilters"] = field(default_factory=tuple)
    none_of: "ProductFilters | None" = None

    def uses_is_published(self) -> bool:
        nested = [*self.all_of, *self.any_of, *([self.none_of] if self.none_of else [])]
        return self.is_published is not None or any(f.uses_is_published() for f in nested)


def product_list(
    *,
    user,
    filters: ProductFilters | None = None,
    ordering: Sequence[tuple[str, bool]] = (),
) -> QuerySet[Product]:
    """The products `user` may see that match `filters`, in `ordering` (pairs
    of a SORT_FIELDS name and whether descending), ties broken by id.

    Bad filter values raise ServiceError rather than matching nothing, so a
    client bug does not look like an empty shop. Filtering by publication is
    for those who see unpublished products: anyone else gets PermissionDenied,
    not a silently empty answer.
    """
    filters = filters or ProductFilters()
    if filters.uses_is_published() and not may_see_unpublished(user):
        raise PermissionDenied("Only catalog managers filter by publication.")
    queryset = products_visible_to(user=user)
    condition = _condition(filters)
    if condition is not None:
        queryset = queryset.filter(condition)
    # Relevance ranks by the top-level search; nested ones only filter.
    search = (filters.search or "").strip()
    if search:
        queryset = queryset.annotate(relevance=relevance_expression(search))
    return _ordered(queryset, ordering, searched=bool(search))


def _condition(filters: ProductFilters) -> Q | None:
    """One condition for a filter and its combinations; None matches all."""
    parts: list[Q] = []
    if filters.is_published is not None:
        parts.append(Q(is_published=filters.is_published))
    search = (filters.search or "").strip()
    if search:
        parts.append(search_condition(search))
    if filters.category_ids is not None:
        parts.append(_in_categories(filters.category_ids))
    if filters.price_gte is not None or filters.price_lte is not None:
        parts.append(_priced_between(filters.price_gte, filters.price_lte))
    if filters.in_stock is not None:
        available = Q(in_stock_condition())
        parts.append(available if filters.in_stock else ~available)
    if filters.min_rating is not None:
        if not 0 <= filters.min_rating <= 5:
            raise ServiceError("minRating must be between 0 and 5.", field="min_rating")
        if filters.min_rating > 0:
            parts.append(Q(average_rating__gte=filters.min_rating))
    parts.extend(_has_attribute(name, values) for name, values in filters.attributes)
    for nested in filters.all_of:
        if (condition := _condition(nested)) is not None:
            parts.append(condition)
    if filters.any_of:
        alternatives = [c for nested in filters.any_of if (c := _condition(nested)) is not None]
        if len(alternatives) == len(filters.any_of):  # none empty: an empty one matches all
            parts.append(reduce(or_, alternatives))
    if filters.none_of is not None:
        excluded = _condition(filters.none_of)
        parts.append(~excluded if excluded is not None else Q(pk__in=[]))
    return reduce(and_, parts) if parts else None


def _in_categories(category_ids: Sequence[int]) -> Q:
    ids = {int(pk) for pk in category_ids}
    paths = list(Category.objects.filter(pk__in=ids).values_list("pk", "path"))
    missing = ids - {pk for pk, _ in paths}
    if missing:
        raise ServiceError(
            "Unknown category.", code=ErrorCode.NOT_FOUND, field="categories"
        )
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(category__path__startswith=p) for p in outermost_paths(p for _, p in paths)))


def _priced_between(gte: Decimal | None, lte: Decimal | None) -> Q:
    """Products with a variant priced within the bounds. With an upper bound
    the kept lowest price (`Product.min_price`, exact whenever a variant
    changes, as the price order needs) rules out first, from the row
    already read, every product whose cheapest variant is above it: the
    same products, but at 200,000 the look-up of their variants is made
    for a fifth of the candidates (bench/results/scale-plans.md)."""
    for value, name in ((gte, "price.gte"), (lte, "price.lte")):
        if value is not None and (not value.is_finite() or value < 0):
            raise ServiceError("A price bound must be a non-negative amount.", field=name)
    if gte is not None and lte is not None and gte > lte:
        raise ServiceError("price.gte must not be above price.lte.", field="price")
    bounds = {}
    if gte is not None:
        bounds["price__gte"] = gte
    if lte is not None:
        bounds["price__lte"] = lte
    priced = Q(Exists(ProductVariant.objects.filter(product_id=OuterRef("pk"), **bounds)))
    return priced & Q(min_price__lte=lte) if lte is not None else priced


def _has_attribute(name: str, values: Sequence[str]) -> Q:
    name = name.strip()
    values = [str(v) for v in values]
    if not name:
        raise ServiceError("An attribute filter needs a name.", field="attributes")
    if not values:
        raise ServiceError(f"The attribute filter {name!r} needs values.", field="attributes")
    if connection.vendor == "postgresql":
        # jsonb containment: exact values, served by PostgreSQL's JSON operators.
        return reduce(
            or_,
            (Q(attributes__contains={name: [v]}) | Q(attributes__contains={name: v})
             for v in values),
        )
    # Elsewhere the values are matched in the attribute's JSON text (or the
    # attribute is a single value).
    text = KeyTextTransform(name, "attributes")
    return reduce(
        or_, (Q(IContains(text, json.dumps(v))) | Q(Exact(text, v)) for v in values)
    )


def _ordered(
    queryset: QuerySet[Product], ordering: Sequence[tuple[str, bool]], *, searched: bool
) -> QuerySet[Product]:
    """Ordered by keys that are never null (apps.catalog.sort_keys), the
    expressions the listing's indexes are on, so a page is read from an
    index and the next one starts where it stopped (keyset pagination)."""
    if not ordering:
        ordering = [("relevance", True)] if searched else [("name", False)]
    order_by = []
    last_descending = False
    for name, descending in ordering:
        key: Any
        if name not in SORT_FIELDS:
            raise ServiceError(f"Cannot order products by {name!r}.", field="ordering")
        if name == "relevance" and not searched:
            continue  # Nothing to rank without a search: the tie-break decides.
        if name == "price":
            key = price_key(descending=descending)
        elif name == "rating":
            key = rating_key(descending=descending)
        else:
            key = F(name)
        order_by.append(key.desc() if descending else key.asc())
        last_descending = descending
    tie = tie_break(descending=last_descending)
    return queryset.order_by(*order_by, tie.desc() if last_descending else tie.asc())


def products_in_category(*, user, category: Category) -> QuerySet[Product]:
    """Visible products of the category and of every category below it."""
    return products_visible_to(user=user).filter(category__path__startswith=category.path)
