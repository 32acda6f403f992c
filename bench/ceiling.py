"""The ceiling: a hand-written Django view answering what the storefront's
ProductList document answers (anonymous caller, no filters, by name), byte
for byte the same JSON, with the fewest queries we can write: one.

It takes the same request body as the GraphQL endpoint (only `variables.first`
is read: the first page, with the same keyset cursors), goes through the same
middleware and the same ASGI server, so the distance between the two is what
GraphQL execution costs.
PostgreSQL only (LATERAL joins); mounted only by bench/urls.py.
"""

import base64
import json

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.core.money import quantize

# The page of visible products in the storefront's default order (name, then
# id); COUNT(*) OVER () is the total before LIMIT, so the page and totalCount
# come back together. Then, for those rows only, the category, price range,
# units available, rating and first image.
PAGE_SQL = """
WITH page AS (
    SELECT id, name, slug, category_id, COUNT(*) OVER () AS total
    FROM catalog_product
    WHERE deleted_at IS NULL AND is_published
    ORDER BY name, id
    LIMIT %s
)
SELECT p.id, p.name, p.slug, c.id, c.name, c.slug,
       offer.low, offer.high, offer.available,
       rating.total, rating.n,
       media.image, media.thumbnail, media.alt,
       p.total
FROM page p
LEFT JOIN catalog_category c ON c.id = p.category_id
LEFT JOIN LATERAL (
    SELECT MIN(v.price) AS low, MAX(v.price) AS high,
           COALESCE(SUM(s.quantity_on_hand - s.quantity_allocated), 0) AS available
    FROM catalog_productvariant v
    LEFT JOIN inventory_stock s ON s.variant_id = v.id
    WHERE v.product_id = p.id
) offer ON TRUE
LEFT JOIN LATERAL (
    SELECT SUM(r.rating) AS total, COUNT(*) AS n
    FROM catalog_review r
    WHERE r.product_id = p.id AND NOT r.is_hidden
) rating ON TRUE
LEFT JOIN LATERAL (
    SELECT m.image, m.thumbnail, m.alt
    FROM catalog_productmedia m
    WHERE m.product_id = p.id
    ORDER BY m.sort_order, m.id
    LIMIT 1
) media ON TRUE
ORDER BY p.name, p.id
"""
COUNT_SQL = "SELECT COUNT(*) FROM catalog_product WHERE deleted_at IS NULL AND is_published"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _cursor(name: str, pk: int) -> str:
    """The keyset cursor schema/pagination.py gives: the row's sort keys."""
    return _b64("keyset:" + json.dumps([name, pk], separators=(",", ":")))


def _money(amount, currency: str) -> dict:
    return {"amount": str(quantize(amount, currency)), "currency": currency}


@csrf_exempt
def product_list(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        variables = json.loads(request.body or b"{}").get("variables") or {}
    else:
        variables = request.GET
    first = min(int(variables.get("first") or 100), settings.GRAPHQL_MAX_PAGE_SIZE)
    currency = settings.DEFAULT_CURRENCY

    with connection.cursor() as cursor:
        cursor.execute(PAGE_SQL, [first])
        rows = cursor.fetchall()
        if rows:
            total = rows[0][-1]
        else:
            cursor.execute(COUNT_SQL)
            total = cursor.fetchone()[0]

    edges = []
    for row in rows:
        (pk, name, slug, category_id, category_name, category_slug, low, high, available,
         stars, reviews, image, thumbnail, alt, _) = row
        picture = thumbnail or image
        edges.append({
            "cursor": _cursor(name, pk),
            "node": {
                "id": _b64(f"Product:{pk}"),
                "name": name,
                "slug": slug,
                "category": None if category_id is None else {
                    "id": _b64(f"Category:{category_id}"),
                    "name": category_name,
                    "slug": category_slug,
                },
                "thumbnail": None if picture is None else {
                    "url": request.build_absolute_uri(default_storage.url(picture)),
                    "alt": alt,
                },
                "priceRange": None if low is None else {
                    "start": _money(low, currency),
                    "stop": _money(high, currency),
                },
                "rating": {
                    "average": round(stars / reviews, 2) if reviews else None,
                    "count": reviews or 0,
                },
                "isAvailable": (available or 0) > 0,
            },
        })
    return JsonResponse({"data": {"products": {
        "totalCount": total,
        "pageInfo": {
            "hasNextPage": len(rows) < total,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "edges": edges,
    }}})
