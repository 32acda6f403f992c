"""CorrelatedSubquery (apps/core/correlated.py): the card's subqueries
compiled once answer what Django's own Subquery answers, with the same SQL,
at the top level and inside another query (where Django renames the
aliases)."""

import pytest
from django.db.models import OuterRef, Subquery

from apps.catalog.models import Category, Product, ProductVariant
from apps.catalog.selectors.cards import LISTING_SUBQUERIES
from apps.core.correlated import CorrelatedSubquery
from tests.test_catalog_queries import seed_catalog

pytestmark = pytest.mark.django_db


def _both(**filters):
    ordinary = Product.objects.filter(**filters).annotate(
        **{name: build() for name, build in LISTING_SUBQUERIES.items()}).order_by("pk")
    compiled = Product.objects.filter(**filters).annotate(
        **{name: CorrelatedSubquery(build) for name, build in LISTING_SUBQUERIES.items()}
    ).order_by("pk")
    return ordinary, compiled


def test_the_same_sql_and_the_same_values():
    seed_catalog(5)
    ordinary, compiled = _both(is_published=True, deleted_at__isnull=True)
    assert str(compiled.query) == str(ordinary.query)
    names = ["pk", *LISTING_SUBQUERIES]
    rows = list(compiled.values(*names))
    assert rows == list(ordinary.values(*names))
    assert len(rows) == 5 and all(row["lowest_price"] is not None for row in rows)
    assert {row["review_count"] for row in rows} == {3}  # the hidden review is not counted
    assert {row["cover_alt"] for row in rows} == {"front"}  # the first image by sort order


def test_the_text_is_compiled_once_and_reused():
    seed_catalog(2)
    expression = CorrelatedSubquery(LISTING_SUBQUERIES["lowest_price"])
    answers = [list(Product.objects.annotate(low=expression).order_by("pk")
                    .values_list("low", flat=True)) for _ in range(3)]
    assert len(expression.compiled) == 1
    ordinary = list(Product.objects.annotate(low=LISTING_SUBQUERIES["lowest_price"]())
                    .order_by("pk").values_list("low", flat=True))
    assert answers == [ordinary] * 3 and any(ordinary)


def test_inside_another_query_the_aliases_follow():
    """As a subquery of another query Django renames the product query's
    aliases (U0...): the card's subquery is compiled for those, its own
    aliases after them, and still reads the right product."""
    seed_catalog(4)
    cheapest = ProductVariant.objects.order_by("price").values_list("price", flat=True)[1]
    inner = Product.objects.annotate(
        low=CorrelatedSubquery(LISTING_SUBQUERIES["lowest_price"])
    ).filter(low__lte=cheapest).values("category_id")
    ordinary_inner = Product.objects.annotate(
        low=LISTING_SUBQUERIES["lowest_price"]()).filter(low__lte=cheapest).values("category_id")
    compiled = list(Category.objects.filter(pk__in=inner).order_by("pk").values_list("pk", flat=True))
    ordinary = list(Category.objects.filter(pk__in=ordinary_inner).order_by("pk")
                    .values_list("pk", flat=True))
    assert compiled == ordinary and compiled


def test_a_subquery_of_the_outer_product_inside_a_subquery():
    """The product query as a correlated subquery itself (OuterRef of its
    own): three levels of aliases."""
    seed_catalog(4)
    lowest = Subquery(
        Product.objects.filter(category_id=OuterRef("pk"))
        .annotate(low=CorrelatedSubquery(LISTING_SUBQUERIES["lowest_price"]))
        .order_by("low").values("low")[:1]
    )
    ordinary_lowest = Subquery(
        Product.objects.filter(category_id=OuterRef("pk"))
        .annotate(low=LISTING_SUBQUERIES["lowest_price"]())
        .order_by("low").values("low")[:1]
    )
    compiled = list(Category.objects.annotate(low=lowest).order_by("pk").values_list("pk", "low"))
    ordinary = list(Category.objects.annotate(low=ordinary_lowest).order_by("pk")
                    .values_list("pk", "low"))
    assert compiled == ordinary
    assert any(low is not None for _, low in compiled)
