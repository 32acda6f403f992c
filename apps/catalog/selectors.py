"""Catalog reads: who sees which products, the storefront's product list, and
batched look-ups (one query for many products or categories) behind the
GraphQL dataloaders."""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import and_, or_

from django.db import connection
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Left
from django.db.models.lookups import Exact, GreaterThanOrEqual, IContains

from apps.accounts.permissions import Perm, staff_has_perm
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant, Review
from apps.catalog.search import relevance_expression, search_condition
from apps.core.errors import ErrorCode, ServiceError
from apps.inventory.selectors import in_stock_condition

# ---------------------------------------------------------------- visibility


def may_see_unpublished(user) -> bool:
    """Catalog managers preview unpublished products; nobody sees deleted ones."""
    return staff_has_perm(user, Perm.MANAGE_PRODUCTS)


def _visible(user, prefix: str = "") -> Q:
    condition = Q(**{f"{prefix}deleted_at__isnull": True})
    if not may_see_unpublished(user):
        condition &= Q(**{f"{prefix}is_published": True})
    return condition


def products_visible_to(*, user, queryset: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """The one visibility rule for products, wherever they are read (lists,
    detail, node look-ups): published and not deleted, or for catalog
    managers not deleted."""
    queryset = Product.objects.all() if queryset is None else queryset
    return queryset.filter(_visible(user))


def variants_visible_to(
    *, user, queryset: QuerySet[ProductVariant] | None = None
) -> QuerySet[ProductVariant]:
    """Variants of the products `user` may see: the same rule, one join away."""
    queryset = ProductVariant.objects.all() if queryset is None else queryset
    return queryset.filter(_visible(user, "product__"))


def reviews_visible_to(*, user, queryset: QuerySet[Review] | None = None) -> QuerySet[Review]:
    """Shown reviews of visible products; catalog managers also see hidden ones."""
    queryset = Review.objects.all() if queryset is None else queryset
    queryset = queryset.filter(_visible(user, "product__"))
    return queryset if may_see_unpublished(user) else queryset.filter(is_hidden=False)


# ------------------------------------------------------------- product list

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
    # Only for catalog managers (the caller checks the permission).
    is_published: bool | None = None
    # Combinations: all of `all_of`, at least one of `any_of`, not `none_of`.
    all_of: Sequence["ProductFilters"] = field(default_factory=tuple)
    any_of: Sequence["ProductFilters"] = field(default_factory=tuple)
    none_of: "ProductFilters | None" = None

    def uses_is_published(self) -> bool:
        nested = [*self.all_of, *self.any_of, *([self.none_of] if self.none_of else [])]
        return self.is_published is not None or any(f.uses_is_published() for f in nested)


def _per_product(queryset: QuerySet, aggregate) -> Subquery:
    """A correlated subquery: `aggregate` over the rows of the outer product."""
    return Subquery(
        queryset.filter(product_id=OuterRef("pk"))
        .order_by()
        .values("product_id")
        .annotate(value=aggregate)
        .values("value")[:1]
    )


def min_price_expression() -> Subquery:
    return _per_product(ProductVariant.objects.all(), Min("price"))


def max_price_expression() -> Subquery:
    return _per_product(ProductVariant.objects.all(), Max("price"))


def _visible_reviews() -> QuerySet[Review]:
    return Review.objects.filter(is_hidden=False)


def average_rating_expression() -> Subquery:
    return _per_product(_visible_reviews(), Avg("rating"))


def review_count_expression() -> Subquery:
    return _per_product(_visible_reviews(), Count("id"))


def review_stars_expression() -> Subquery:
    """The sum of the visible reviews' stars; with the count, the average."""
    return _per_product(_visible_reviews(), Sum("rating"))


def first_media_expression(field: str) -> Subquery:
    """A column of the product's first media (by sort order): its thumbnail."""
    return Subquery(
        ProductMedia.objects.filter(product_id=OuterRef("pk"))
        .order_by("sort_order", "id")
        .values(field)[:1]
    )


# What a product card shows, as annotations, by the name each gets. The
# GraphQL Product type asks the optimizer for the ones a query selects.
LISTING_ANNOTATIONS = {
    "thumbnail_image": lambda: first_media_expression("image"),
    "thumbnail_rendition": lambda: first_media_expression("thumbnail"),
    "thumbnail_alt": lambda: first_media_expression("alt"),
    "lowest_price": min_price_expression,
    "highest_price": max_price_expression,
    "in_stock": in_stock_condition,
    "review_count": review_count_expression,
    "review_stars": review_stars_expression,
}


def product_listing_values(*, product_ids: Iterable[int]) -> dict[int, dict]:
    """The card values of products that did not come from a listing (a
    mutation's answer, a cart line's product), in one query."""
    rows = (
        Product.objects.filter(pk__in=list(product_ids))
        .order_by()
        .annotate(**{name: build() for name, build in LISTING_ANNOTATIONS.items()})
        .values("pk", *LISTING_ANNOTATIONS)
    )
    return {row.pop("pk"): row for row in rows}


def average_stars(*, total: int | None, count: int | None) -> float | None:
    """Mean stars to 2 places, or None without reviews: one rule for every
    place that shows a rating."""
    return round(total / count, 2) if count else None


def product_list(
    *,
    user,
    filters: ProductFilters | None = None,
    ordering: Sequence[tuple[str, bool]] = (),
) -> QuerySet[Product]:
    """The products `user` may see that match `filters`, in `ordering` (pairs
    of a SORT_FIELDS name and whether descending), ties broken by id.

    Bad filter values raise ServiceError rather than matching nothing, so a
    client bug does not look like an empty shop.
    """
    filters = filters or ProductFilters()
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
        parts.append(Q(_priced_between(filters.price_gte, filters.price_lte)))
    if filters.in_stock is not None:
        available = Q(in_stock_condition())
        parts.append(available if filters.in_stock else ~available)
    if filters.min_rating is not None:
        if not 0 <= filters.min_rating <= 5:
            raise ServiceError("minRating must be between 0 and 5.", field="min_rating")
        if filters.min_rating > 0:
            parts.append(Q(GreaterThanOrEqual(average_rating_expression(), filters.min_rating)))
    parts.extend(_has_attribute(name, values) for name, values in filters.attributes)
    for nested in filters.all_of:
        if (condition := _condition(nested)) is not None:
            parts.append(condition)
    if filters.any_of:
        alternatives = [_condition(nested) for nested in filters.any_of]
        if None not in alternatives:  # an empty alternative matches everything
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
    return reduce(or_, (Q(category__path__startswith=p) for p in _outermost(p for _, p in paths)))


def _priced_between(gte: Decimal | None, lte: Decimal | None) -> Exists:
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
    return Exists(ProductVariant.objects.filter(product_id=OuterRef("pk"), **bounds))


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
    if not ordering:
        ordering = [("relevance", True)] if searched else [("name", False)]
    order_by = []
    for name, descending in ordering:
        if name not in SORT_FIELDS:
            raise ServiceError(f"Cannot order products by {name!r}.", field="ordering")
        if name == "relevance" and not searched:
            continue  # Nothing to rank without a search: the tie-break decides.
        if name == "price":
            queryset = queryset.alias(min_price=min_price_expression())
            name = "min_price"
        elif name == "rating":
            queryset = queryset.alias(average_rating=average_rating_expression())
            name = "average_rating"
        expression = F(name)
        order_by.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    return queryset.order_by(*order_by, "id")


def products_in_category(*, user, category: Category) -> QuerySet[Product]:
    """Visible products of the category and of every category below it."""
    return products_visible_to(user=user).filter(category__path__startswith=category.path)


# ----------------------------------------------------------- batched facts


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    # stars (1..5) -> number of visible reviews
    distribution: dict[int, int]


NO_RATING = RatingSummary(count=0, average=None, distribution={s: 0 for s in range(1, 6)})


def product_ratings(*, product_ids: Iterable[int]) -> dict[int, RatingSummary]:
    """Average, count and per-star counts of visible reviews, in one query."""
    rows = (
        Review.objects.filter(product_id__in=list(product_ids), is_hidden=False)
        .order_by()
        .values_list("product_id", "rating")
        .annotate(n=Count("id"))
    )
    by_product: dict[int, dict[int, int]] = defaultdict(lambda: {s: 0 for s in range(1, 6)})
    for product_id, stars, n in rows:
        by_product[product_id][stars] = n
    result = {}
    for product_id, distribution in by_product.items():
        count = sum(distribution.values())
        total = sum(stars * n for stars, n in distribution.items())
        result[product_id] = RatingSummary(
            count=count,
            average=average_stars(total=total, count=count),
            distribution=distribution,
        )
    return result


def visible_reviews(*, product: Product) -> QuerySet[Review]:
    """Reviews the shop shows (staff can hide one), newest first."""
    return (
        Review.objects.filter(product=product, is_hidden=False)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


# ------------------------------------------------------------- categories


def _outermost(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie under another given path (their subtree is
    already covered)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


def categories_by_path(*, paths: Iterable[str]) -> dict[str, Category]:
    return {c.path: c for c in Category.objects.filter(path__in=list(paths))}


def category_children(*, paths: Iterable[str]) -> dict[str, list[Category]]:
    """Children of many categories, in tree order, in one query."""
    steplen = Category.steplen
    children = (
        Category.objects.alias(
            parent_path=Left("path", (F("depth") - Value(1)) * Value(steplen))
        )
        .filter(depth__gt=1, parent_path__in=list(paths))
        .order_by("path")
    )
    result: dict[str, list[Category]] = defaultdict(list)
    for child in children:
        result[child.path[:-steplen]].append(child)
    return result


def category_ancestors(*, paths: Iterable[str]) -> dict[str, list[Category]]:
    """Ancestors of many categories, root first, in one query."""
    steplen = Category.steplen
    paths = list(paths)
    prefixes = {
        path: [path[:i] for i in range(steplen, len(path), steplen)] for path in paths
    }
    wanted = {prefix for chain in prefixes.values() for prefix in chain}
    found = categories_by_path(paths=wanted) if wanted else {}
    return {
        path: [found[prefix] for prefix in chain if prefix in found]
        for path, chain in prefixes.items()
    }


def category_product_counts(*, paths: Iterable[str]) -> dict[str, int]:
    """Customer-visible products in each category and its descendants, in
    one query (grouped per category, summed per subtree here)."""
    paths = list(paths)
    if not paths:
        return {}
    rows = (
        Product.objects.visible_to_customers()
        .filter(reduce(or_, (Q(category__path__startswith=p) for p in _outermost(paths))))
        .order_by()
        .values_list("category__path")
        .annotate(n=Count("id"))
    )
    rows = list(rows)
    return {path: sum(n for p, n in rows if p.startswith(path)) for path in paths}
