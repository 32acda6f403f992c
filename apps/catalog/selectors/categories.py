"""The category tree in batches: nodes, children, ancestors and product counts
for many paths in one query each."""

from collections import defaultdict
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import (
    Count,
    F,
    Q,
    Value,
)
from django.db.models.functions import Left

from apps.catalog.models import Category, Product


def outermost_paths(paths: Iterable[str]) -> list[str]:
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
        .filter(reduce(or_, (Q(category__path__startswith=p) for p in outermost_paths(paths))))
        .order_by()
        .values_list("category__path")
        .annotate(n=Count("id"))
    )
    rows = list(rows)
    return {path: sum(n for p, n in rows if p.startswith(path)) for path in paths}
