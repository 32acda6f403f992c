"""Keyset pagination of the product lists and their capped totalCount
(schema/pagination.py), and the sort keys the services keep on each
product (apps.catalog.sort_keys), through the GraphQL endpoint."""

import functools
import base64
from decimal import Decimal

import pytest

from apps.catalog import services
from apps.catalog.models import Product
from apps.reviews import services as review_services
from tests.conftest import error_codes
from tests.factories import make_category, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String,
           $ordering: [ProductOrder!], $filters: ProductFilter) {
  products(first: $first, after: $after, last: $last, before: $before,
           ordering: $ordering, filters: $filters) {
    totalCount
    totalCountIsExact
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } }
  }
}
"""


def page(client, **variables) -> dict:
    return client.execute(PAGE, variables)["products"]


def names(connection: dict) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


def walk(client, size: int, **variables) -> list[str]:
    """Every name, page after page of `size`, forward."""
    seen, after = [], None
    while True:
        data = page(client, first=size, after=after, **variables)
        seen += names(data)
        if not data["pageInfo"]["hasNextPage"]:
            return seen
        after = data["pageInfo"]["endCursor"]


def walk_back(client, size: int, **variables) -> list[str]:
    """Every name, page before page of `size` from the end, put back in order."""
    pages, before = [], None
    while True:
        data = page(client, last=size, before=before, **variables)
        pages.insert(0, names(data))
        if not data["pageInfo"]["hasPreviousPage"]:
            return [name for chunk in pages for name in chunk]
        before = data["pageInfo"]["startCursor"]


def priced(name: str, *prices: str, ratings: tuple[int, ...] = ()) -> Product:
    product = make_product(name=name)
    for price in prices:
        make_variant(product=product, price=price)
    for stars in ratings:
        make_review(product=product, rating=stars)
    return product


@pytest.fixture
def shelf():
    """Ties everywhere: equal prices, equal ratings, no price, no rating."""
    return [
        priced("Amber", "20.00", ratings=(4,)),
        priced("Birch", "10.00", "30.00", ratings=(5, 3)),
        priced("Cedar", "20.00", ratings=(4,)),
        priced("Dune", "20.00"),
        priced("Elm"),  # no variant: no price
        priced("Fig", "5.00", ratings=(5,)),
        priced("Gale", "20.00", ratings=(2, 5, 5)),
    ]


@pytest.mark.parametrize("ordering, expected", [
    (None, ["Amber", "Birch", "Cedar", "Dune", "Elm", "Fig", "Gale"]),
    # Ties by id (the order they were made), products without a price last.
    ([{"price": "ASC"}], ["Fig", "Birch", "Amber", "Cedar", "Dune", "Gale", "Elm"]),
    ([{"price": "DESC"}], ["Amber", "Cedar", "Dune", "Gale", "Birch", "Fig", "Elm"]),
    # Amber, Birch, Cedar and Gale average 4; unrated last either way.
    ([{"rating": "DESC"}], ["Fig", "Amber", "Birch", "Cedar", "Gale", "Dune", "Elm"]),
    ([{"rating": "ASC"}], ["Amber", "Birch", "Cedar", "Gale", "Fig", "Dune", "Elm"]),
    ([{"name": "DESC"}], ["Gale", "Fig", "Elm", "Dune", "Cedar", "Birch", "Amber"]),
    ([{"createdAt": "DESC"}], ["Gale", "Fig", "Elm", "Dune", "Cedar", "Birch", "Amber"]),
    ([{"price": "ASC"}, {"rating": "DESC"}],
     ["Fig", "Birch", "Amber", "Cedar", "Gale", "Dune", "Elm"]),
])
def test_pages_forward_and_backward_give_the_whole_order_once(client, shelf, ordering,
                                                               expected):
    assert names(page(client, first=100, ordering=ordering)) == expected
    for size in (1, 2, 3):
        assert walk(client, size, ordering=ordering) == expected
        assert walk_back(client, size, ordering=ordering) == expected


def test_page_info_and_last_alone(client, shelf):
    first = page(client, first=3)
    assert first["pageInfo"]["hasNextPage"] and not first["pageInfo"]["hasPreviousPage"]
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    middle = page(client, first=3, after=first["pageInfo"]["endCursor"])
    assert names(middle) == ["Dune", "Elm", "Fig"]
    assert middle["pageInfo"]["hasNextPage"] and middle["pageInfo"]["hasPreviousPage"]
    last = page(client, last=2)
    assert names(last) == ["Fig", "Gale"]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    # first and last together: the last two of the first four.
    assert names(page(client, first=4, last=2)) == ["Cedar", "Dune"]
    assert names(page(client, first=0)) == []


def test_a_cursor_stays_put_when_products_are_added_before_it(client, shelf):
    first = page(client, first=3, ordering=[{"price": "ASC"}])
    assert names(first) == ["Fig", "Birch", "Amber"]
    # New products sorting before and at the cursor's place, and the cursor's
    # own product getting dearer, do not shift the next page.
    priced("Aaa cheap", "1.00")
    priced("Aab tie", "20.00")
    after = first["pageInfo"]["endCursor"]
    nxt = page(client, first=3, after=after, ordering=[{"price": "ASC"}])
    assert names(nxt) == ["Cedar", "Dune", "Gale"]
    assert page(client, first=1, ordering=[{"price": "ASC"}])["totalCount"] == 9


def test_total_count_is_exact_up_to_the_cap(client, shelf, settings):
    data = page(client, first=2)
    assert (data["totalCount"], data["totalCountIsExact"]) == (7, True)
    settings.GRAPHQL_TOTAL_COUNT_CAP = 7
    data = page(client, first=2)
    assert (data["totalCount"], data["totalCountIsExact"]) == (7, True)
    settings.GRAPHQL_TOTAL_COUNT_CAP = 5
    data = page(client, first=2)
    assert (data["totalCount"], data["totalCountIsExact"]) == (6, False)
    # Under a filter the count is of the matches, and the whole list stays
    # reachable whatever the count says.
    data = page(client, first=2, filters={"price": {"gte": "15"}})
    assert (data["totalCount"], data["totalCountIsExact"]) == (5, True)
    assert len(walk(client, 2)) == 7


def test_the_category_page_is_paged_the_same_way(client):
    category = make_category(name="Fragrance", slug="fragrance")
    for name in ("One", "Two", "Three"):
        make_product(name=name, category=category)
    document = """query($after: String) { category(slug: "fragrance") {
        products(first: 2, after: $after) { totalCount totalCountIsExact
          pageInfo { hasNextPage endCursor } edges { node { name } } } } }"""
    first = client.execute(document, {})["category"]["products"]
    assert names(first) == ["One", "Three"] and first["totalCountIsExact"]
    rest = client.execute(document, {"after": first["pageInfo"]["endCursor"]})
    assert names(rest["category"]["products"]) == ["Two"]


@pytest.mark.parametrize("cursor", [
    base64.b64encode(b"arrayconnection:2").decode(),  # an offset cursor of before
    base64.b64encode(b'keyset:["Amber"]').decode(),  # too few keys
    base64.b64encode(b'keyset:["Amber","x"]').decode(),  # not an id
    base64.b64encode(b"keyset:{").decode(),
    "not base64!",
])
def test_a_cursor_this_list_did_not_make_is_refused(client, shelf, cursor):
    for name in ("after", "before"):
        result = client.post(PAGE, {"first": 2, name: cursor})
        assert error_codes(result) == ["BAD_USER_INPUT"], result
    # A price cursor does not fit the name order's keys either way round.
    price_cursor = page(client, first=1, ordering=[{"price": "ASC"}])["pageInfo"]["endCursor"]
    result = client.post(PAGE, {"first": 2, "after": price_cursor,
                                "ordering": [{"createdAt": "ASC"}]})
    assert error_codes(result) == ["BAD_USER_INPUT"]


def test_the_services_keep_the_sort_keys(client, django_capture_on_commit_callbacks):
    # Each write commits as a request would, so its events reach the
    # response cache before the next read.
    committed = functools.partial(django_capture_on_commit_callbacks, execute=True)
    cheap, dear = priced("Cheap", "5.00"), priced("Dear", "50.00")
    order = [{"price": "ASC"}]
    assert names(page(client, first=10, ordering=order)) == ["Cheap", "Dear"]
    with committed():
        services.variant_update(actor=None, variant=cheap.variants.get(), price=Decimal("60.00"))
    assert names(page(client, first=10, ordering=order)) == ["Dear", "Cheap"]
    with committed():
        services.variant_create(actor=None, product=cheap, sku="CHEAP-2", price=Decimal("1.00"))
    assert names(page(client, first=10, ordering=order)) == ["Cheap", "Dear"]

    rating = [{"rating": "DESC"}]
    low = make_review(product=cheap, rating=1)
    make_review(product=dear, rating=3)
    assert names(page(client, first=10, ordering=rating)) == ["Dear", "Cheap"]
    with committed():
        review_services.review_set_hidden(actor=None, review=low, is_hidden=True)
    assert names(page(client, first=10, ordering=rating)) == ["Dear", "Cheap"]
    cheap.refresh_from_db()
    assert cheap.average_rating is None and cheap.min_price == Decimal("1.00")
    buyer = low.user.__class__.objects.create_user(email="five@example.com", password=None)
    with committed():
        buyer_review = review_services.review_create(user=buyer, product_id=cheap.pk, rating=5)
    assert buyer_review.rating == 5
    assert names(page(client, first=10, ordering=rating)) == ["Cheap", "Dear"]
    assert names(page(client, first=10, filters={"minRating": 4})) == ["Cheap"]
