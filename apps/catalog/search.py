"""Product search: PostgreSQL full-text where available, a case-insensitive
match elsewhere. Writers call refresh_search_vector after changing what a
product's search document holds (name, SKUs, attributes, description)."""

from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, Value, When

from apps.catalog.models import ProductVariant

# One configuration for the stored documents and the queries, or they miss.
SEARCH_CONFIG = "english"

# The document (A: name and SKUs, B: attribute values, C: description) in
# one statement. The JSON attribute values are flattened by PostgreSQL itself
# so that one UPDATE covers any number of products.
_DOCUMENT_SQL = """
UPDATE catalog_product AS p SET search_vector =
    setweight(to_tsvector(%(config)s::regconfig, coalesce(p.name, '')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT string_agg(v.sku, ' ') FROM catalog_productvariant v WHERE v.product_id = p.id
    ), '')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT string_agg(value, ' ')
        FROM jsonb_each(CASE WHEN jsonb_typeof(p.attributes) = 'object'
                             THEN p.attributes ELSE '{}'::jsonb END) AS attribute(name, raw),
             LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(raw) = 'array'
                                                    THEN raw ELSE jsonb_build_array(raw) END)
                 AS item(value)
    ), '')), 'B')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce(p.description, '')), 'C')
WHERE p.id = ANY(%(ids)s)
"""


def is_full_text() -> bool:
    return connection.vendor == "postgresql"


def refresh_search_vector(*, product_ids: Iterable[int]) -> None:
    """Recompute the stored search document of these products (PostgreSQL only).

    Computed in the database rather than in Python so that the SKUs and
    attribute values are read in the same statement that writes the document:
    a caller cannot hand in stale text.
    """
    ids = sorted({int(pk) for pk in product_ids})
    if not ids or not is_full_text():
        return
    with connection.cursor() as cursor:
        cursor.execute(_DOCUMENT_SQL, {"config": SEARCH_CONFIG, "ids": ids})


def search_condition(text: str) -> Q:
    """Products matching `text`: the stored document on PostgreSQL (web search
    syntax: quotes, `or`, `-word`), a case-insensitive match elsewhere."""
    if is_full_text():
        return Q(search_vector=_query(text))
    sku_matches = Exists(
        ProductVariant.objects.filter(product_id=OuterRef("pk"), sku__icontains=text)
    )
    return Q(name__icontains=text) | Q(description__icontains=text) | Q(sku_matches)


def relevance_expression(text: str):
    """How well a product matches `text`, higher is better."""
    if is_full_text():
        return SearchRank(F("search_vector"), _query(text))
    # No ranking outside PostgreSQL: a hit in the name beats one elsewhere.
    return Case(
        When(name__icontains=text, then=Value(1.0)), default=Value(0.5), output_field=FloatField()
    )


def _query(text: str) -> SearchQuery:
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
