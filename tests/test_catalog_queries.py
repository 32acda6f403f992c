"""Storefront catalog reads through the GraphQL endpoint, with the contract's
own documents, plus the selectors behind them."""

from decimal import Decimal

import pytest
from strawberry.relay import to_base64

from apps.catalog import models, selectors
from apps.catalog.models import Category
from apps.core.errors import ServiceError
from tests import contract
from tests.conftest import error_codes
from tests.factories import (
    make_category,
    make_media,
    make_product,
    make_review,
    make_stock,
    make_variant,
    make_warehouse,
)

pytestmark = pytest.mark.django_db


def storefront() -> str:
    return contract.document("storefront/catalog.graphql")


def admin() -> str:
    return contract.document("admin/catalog.graphql")


# Measured; the point is that they do not grow with the page.
# The page with every card field as an annotation, and its capped count.
PRODUCT_LIST_QUERIES = 2  # the page, its count (capped: schema/pagination.py)
PRODUCT_DETAIL_QUERIES = 7
CATEGORY_TREE_QUERIES = 4  # page, parents+children (2), product counts
CATEGORY_PAGE_QUERIES = 3  # category + the product list's 2
# Staff: + the token's user, + its permissions and group permissions.
ADMIN_PRODUCTS_QUERIES = 7  # user, permissions (2), page, count, variants, stock


def gid(type_name: str, pk: int) -> str:
    return to_base64(type_name, pk)


def run(client, operation: str, variables: dict | None = None, document: str | None = None):
    return client.execute(document or storefront(), variables or {}, operation_name=operation)


def seed_catalog(size: int) -> dict:
    """`size` published products spread over a three-level tree, each with
    three variants stocked in two warehouses, visible and hidden reviews and
    two images; plus one unpublished and one deleted product."""
    root = make_category(name="Fragrance", slug="fragrance")
    child = make_category(name="Perfume", slug="perfume", parent=root)
    grandchild = make_category(name="Eau de parfum", slug="eau-de-parfum", parent=child)
    other = make_category(name="Candles", slug="candles")
    categories = [root, child, grandchild, other]
    second = make_warehouse()
    products = []
    for i in range(size):
        product = make_product(
            name=f"Scent {i:02d}",
            slug=f"scent-{i:02d}",
            category=categories[i % 4],
            attributes={"Notes": ["bergamot", f"note-{i}"]},
        )
        for j in range(3):
            variant = make_variant(
                product=product, price=Decimal(10 + i + j), stock=5, allocated=1,
                options=[{"name": "Size", "value": f"{30 + 20 * j} ml"}],
            )
            make_stock(variant=variant, quantity_on_hand=2, warehouse=second)
        for stars in (5, 4, 2):
            make_review(product=product, rating=stars)
        make_review(product=product, rating=1, is_hidden=True)
        make_media(product=product, sort_order=1, alt="side")
        make_media(product=product, sort_order=0, alt="front", with_thumbnail=True)
        products.append(product)
    unpublished = make_product(name="Secret", slug="secret", category=root, is_published=False)
    deleted = make_product(name="Gone", slug="gone", category=root, deleted=True)
    return {"categories": categories, "products": products, "unpublished": unpublished,
            "deleted": deleted}


# ------------------------------------------------------------ query counts


@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [10, 100])
def test_product_list_costs_the_same_whatever_the_page(
    client, django_assert_num_queries, size, first
):
    seed_catalog(size)
    with django_assert_num_queries(PRODUCT_LIST_QUERIES):
        data = run(client, "ProductList", {"first": first})
    assert data["products"]["totalCount"] == size
    assert len(data["products"]["edges"]) == min(size, first)


@pytest.mark.parametrize("size", [3, 12])
def test_product_list_with_filters_and_ordering_costs_the_same(
    client, django_assert_num_queries, size
):
    catalog = seed_catalog(size)
    filters = {"categories": [gid("Category", catalog["categories"][0].pk)],
               "price": {"gte": "10"}, "inStock": True, "minRating": 3,
               "attributes": [{"name": "Notes", "values": ["bergamot"]}]}
    # + the category look-up that checks the IDs exist.
    with django_assert_num_queries(PRODUCT_LIST_QUERIES + 1):
        data = run(client, "ProductList", {"first": 100, "filters": filters,
                                           "ordering": [{"price": "DESC"}, {"rating": "ASC"}]})
    assert data["products"]["totalCount"] == len(
        [p for i, p in enumerate(catalog["products"]) if i % 4 != 3]
    )


@pytest.mark.parametrize("size", [3, 12])
def test_product_detail_costs_the_same(client, django_assert_num_queries, size):
    seed_catalog(size)
    with django_assert_num_queries(PRODUCT_DETAIL_QUERIES):
        data = run(client, "ProductDetail", {"slug": "scent-02"})
    assert data["product"]["slug"] == "scent-02"


@pytest.mark.parametrize("size", [3, 12])
def test_category_tree_costs_the_same(client, django_assert_num_queries, size):
    for i in range(size):
        root = make_category(name=f"Root {i}")
        child = make_category(parent=root)
        make_category(parent=child)
        make_product(category=child)
    with django_assert_num_queries(CATEGORY_TREE_QUERIES):
        data = run(client, "CategoryTree")
    assert data["categories"]["totalCount"] == 3 * size


@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [10, 100])
def test_category_page_costs_the_same(client, django_assert_num_queries, size, first):
    seed_catalog(size)
    with django_assert_num_queries(CATEGORY_PAGE_QUERIES):
        data = run(client, "CategoryPage", {"slug": "fragrance", "first": first})
    assert data["category"]["products"]["totalCount"] == len(
        [i for i in range(size) if i % 4 != 3]
    )


@pytest.mark.parametrize("size", [3, 12])
@pytest.mark.parametrize("first", [10, 100])
def test_admin_products_costs_the_same(staff_client, django_assert_num_queries, size, first):
    seed_catalog(size)
    with django_assert_num_queries(ADMIN_PRODUCTS_QUERIES):
        data = run(staff_client, "AdminProducts", {"first": first}, document=admin())
    # Staff see the unpublished product too, never the deleted one.
    assert data["products"]["totalCount"] == size + 1
    node = data["products"]["edges"][0]["node"]
    assert [v["quantityAvailable"] for v in node["variants"]] == [6, 6, 6]


# ------------------------------------------------------------ what it shows


def test_product_card_fields(client):
    seed_catalog(3)
    data = run(client, "ProductList", {"first": 2})
    page = data["products"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    card = page["edges"][0]["node"]
    assert card["name"] == "Scent 00"
    assert card["category"] == {"id": gid("Category", Category.objects.get(slug="fragrance").pk),
                                "name": "Fragrance", "slug": "fragrance"}
    assert card["priceRange"] == {"start": {"amount": "10.00", "currency": "USD"},
                                  "stop": {"amount": "12.00", "currency": "USD"}}
    # The hidden 1-star review does not count.
    assert card["rating"] == {"average": pytest.approx(3.67), "count": 3}
    assert card["isAvailable"] is True
    # The first image by sort order, through its thumbnail rendition, absolute.
    assert card["thumbnail"]["alt"] == "front"
    assert card["thumbnail"]["url"].startswith("http://testserver/media/products/thumbnails/")

    after = run(client, "ProductList", {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["name"] for e in after["products"]["edges"]] == ["Scent 02"]


def test_product_without_variants_stock_or_media(client):
    make_product(slug="bare")
    card = run(client, "ProductList", {"first": 10})["products"]["edges"][0]["node"]
    assert card["priceRange"] is None
    assert card["isAvailable"] is False
    assert card["thumbnail"] is None
    assert card["rating"] == {"average": None, "count": 0}


def test_allocated_stock_is_not_available(client):
    product = make_product()
    make_variant(product=product, stock=3, allocated=3)
    card = run(client, "ProductList", {"first": 10})["products"]["edges"][0]["node"]
    assert card["isAvailable"] is False


def test_product_detail(client):
    catalog = seed_catalog(3)
    product = catalog["products"][1]  # in "Perfume", under "Fragrance"
    data = run(client, "ProductDetail", {"slug": product.slug})["product"]
    assert data["id"] == gid("Product", product.pk)
    assert [a["slug"] for a in data["category"]["ancestors"]] == ["fragrance"]
    assert [m["alt"] for m in data["media"]] == ["front", "side"]
    assert data["attributes"] == [{"name": "Notes", "values": ["bergamot", "note-1"]}]
    assert [v["options"] for v in data["variants"]] == [
        [{"name": "Size", "value": "30 ml"}], [{"name": "Size", "value": "50 ml"}],
        [{"name": "Size", "value": "70 ml"}],
    ]
    assert [v["price"]["amount"] for v in data["variants"]] == ["11.00", "12.00", "13.00"]
    # 5 on hand − 1 allocated in one warehouse, 2 in the other.
    assert [v["quantityAvailable"] for v in data["variants"]] == [6, 6, 6]
    assert data["rating"]["distribution"] == [
        {"stars": 1, "count": 0}, {"stars": 2, "count": 1}, {"stars": 3, "count": 0},
        {"stars": 4, "count": 1}, {"stars": 5, "count": 1},
    ]
    reviews = data["reviews"]
    assert reviews["totalCount"] == 3
    # Newest first, hidden ones left out.
    assert [e["node"]["rating"] for e in reviews["edges"]] == [2, 4, 5]
    assert {e["node"]["authorName"] for e in reviews["edges"]} == {"Ada L."}


def test_deep_category_ancestors_root_first(client):
    a = make_category(slug="a")
    b = make_category(slug="b", parent=a)
    c = make_category(slug="c", parent=b)
    make_product(slug="deep", category=c)
    data = run(client, "ProductDetail", {"slug": "deep"})["product"]
    assert [x["slug"] for x in data["category"]["ancestors"]] == ["a", "b"]


def test_unknown_or_invisible_slug_is_null(client, customer_client, staff_client):
    catalog = seed_catalog(1)
    assert run(client, "ProductDetail", {"slug": "nope"})["product"] is None
    for c in (client, customer_client):
        assert run(c, "ProductDetail", {"slug": "secret"})["product"] is None
        assert run(c, "ProductDetail", {"slug": "gone"})["product"] is None
    assert run(staff_client, "ProductDetail", {"slug": "secret"})["product"]["id"] == gid(
        "Product", catalog["unpublished"].pk
    )
    assert run(staff_client, "ProductDetail", {"slug": "gone"})["product"] is None


def test_category_tree(client):
    root = make_category(slug="root")
    first = make_category(slug="first", parent=root)
    second = make_category(slug="second", parent=root)
    leaf = make_category(slug="leaf", parent=second)
    make_product(category=root)
    make_product(category=leaf)
    make_product(category=leaf, is_published=False)
    make_product(category=first, deleted=True)
    nodes = {e["node"]["slug"]: e["node"] for e in run(client, "CategoryTree")["categories"]["edges"]}
    assert list(nodes) == ["root", "first", "second", "leaf"]
    assert nodes["root"]["parent"] is None
    assert nodes["leaf"]["parent"] == {"id": gid("Category", second.pk)}
    assert [c["slug"] for c in nodes["root"]["children"]] == ["first", "second"]
    assert {s: n["productCount"] for s, n in nodes.items()} == {
        "root": 2, "first": 0, "second": 1, "leaf": 1
    }
    assert first.pk and leaf.pk


def test_category_page_includes_descendants(client):
    catalog = seed_catalog(8)
    data = run(client, "CategoryPage", {"slug": "perfume", "first": 10})["category"]
    assert data["name"] == "Perfume"
    # Perfume (i % 4 == 1) and Eau de parfum (i % 4 == 2).
    names = [e["node"]["name"] for e in data["products"]["edges"]]
    assert names == [p.name for i, p in enumerate(catalog["products"]) if i % 4 in (1, 2)]
    assert run(client, "CategoryPage", {"slug": "nope", "first": 10})["category"] is None


def test_node_lookup(client, customer_client, staff_client):
    catalog = seed_catalog(1)
    product = catalog["products"][0]
    variant = product.variants.first()
    category = catalog["categories"][0]
    assert run(client, "NodeLookup", {"id": gid("Product", product.pk)})["node"] == {
        "id": gid("Product", product.pk), "name": product.name, "slug": product.slug}
    assert run(client, "NodeLookup", {"id": gid("ProductVariant", variant.pk)})["node"] == {
        "id": gid("ProductVariant", variant.pk), "sku": variant.sku}
    assert run(client, "NodeLookup", {"id": gid("Category", category.pk)})["node"] == {
        "id": gid("Category", category.pk), "name": "Fragrance"}
    secret = gid("Product", catalog["unpublished"].pk)
    gone = gid("Product", catalog["deleted"].pk)
    for c in (client, customer_client):
        assert run(c, "NodeLookup", {"id": secret})["node"] is None
        assert run(c, "NodeLookup", {"id": gone})["node"] is None
    assert run(staff_client, "NodeLookup", {"id": secret})["node"]["name"] == "Secret"
    assert run(staff_client, "NodeLookup", {"id": gone})["node"] is None


# ------------------------------------------------------------ visibility


def names(client, filters=None, ordering=None, first=100):
    variables = {"first": first, "filters": filters, "ordering": ordering}
    data = run(client, "ProductList", variables)
    return [e["node"]["name"] for e in data["products"]["edges"]]


def test_visibility(client, customer_client, staff_client):
    seed_catalog(2)
    assert names(client) == ["Scent 00", "Scent 01"]
    assert names(customer_client) == ["Scent 00", "Scent 01"]
    assert names(staff_client) == ["Scent 00", "Scent 01", "Secret"]
    assert names(staff_client, {"isPublished": False}) == ["Secret"]
    assert names(staff_client, {"isPublished": True}) == ["Scent 00", "Scent 01"]


def test_is_published_filter_needs_the_catalog_permission(client, customer_client):
    seed_catalog(1)
    variables = {"first": 10, "filters": {"isPublished": False}}
    assert error_codes(client.post(storefront(), variables, operation_name="ProductList")) == [
        "UNAUTHENTICATED"]
    assert error_codes(
        customer_client.post(storefront(), variables, operation_name="ProductList")
    ) == ["FORBIDDEN"]


def test_admin_products_without_permission_sees_what_customers_see(customer_client):
    seed_catalog(2)
    data = run(customer_client, "AdminProducts", {"first": 10}, document=admin())
    assert data["products"]["totalCount"] == 2


# ------------------------------------------------------------ filters


def test_filter_by_category_includes_descendants(client):
    catalog = seed_catalog(8)
    perfume = catalog["categories"][1]
    candles = catalog["categories"][3]
    assert names(client, {"categories": [gid("Category", perfume.pk)]}) == [
        "Scent 01", "Scent 02", "Scent 05", "Scent 06"]
    assert names(client, {"categories": [gid("Category", perfume.pk),
                                         gid("Category", candles.pk)]}) == [
        "Scent 01", "Scent 02", "Scent 03", "Scent 05", "Scent 06", "Scent 07"]


def test_filter_by_price_in_stock_rating_and_attributes(client):
    catalog = seed_catalog(4)
    # Variant prices: product i has 10+i, 11+i, 12+i.
    assert names(client, {"price": {"gte": "13", "lte": "13.50"}}) == [
        "Scent 01", "Scent 02", "Scent 03"]
    assert names(client, {"price": {"lte": "10"}}) == ["Scent 00"]
    sold_out = catalog["products"][0]
    for variant in sold_out.variants.all():
        variant.stocks.update(quantity_allocated=0, quantity_on_hand=0)
    assert names(client, {"inStock": False}) == ["Scent 00"]
    assert names(client, {"inStock": True}) == ["Scent 01", "Scent 02", "Scent 03"]
    make_review(product=catalog["products"][3], rating=5)
    make_review(product=catalog["products"][3], rating=5)
    assert names(client, {"minRating": 4}) == ["Scent 03"]
    assert names(client, {"attributes": [{"name": "Notes", "values": ["note-2", "note-3"]}]}) == [
        "Scent 02", "Scent 03"]
    assert names(client, {"attributes": [{"name": "Notes", "values": ["bergamot"]},
                                         {"name": "Notes", "values": ["note-1"]}]}) == ["Scent 01"]
    assert names(client, {"attributes": [{"name": "Colour", "values": ["bergamot"]}]}) == []


def test_price_filter_wants_a_variant_within_the_range_as_prices_change(
        client, django_capture_on_commit_callbacks):
    from apps.catalog import services

    catalog = seed_catalog(2)
    # Scent 00 has 10, 11 and 12: its lowest price is under the bound, yet
    # none of its variants is within the range.
    assert names(client, {"price": {"gte": "10.20", "lte": "10.80"}}) == []
    assert names(client, {"price": {"lte": "10.50"}}) == ["Scent 00"]
    cheapest = catalog["products"][1].variants.order_by("price").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.variant_update(actor=None, variant=cheapest, price=Decimal("10.40"))
    assert names(client, {"price": {"lte": "10.50"}}) == ["Scent 00", "Scent 01"]
    with django_capture_on_commit_callbacks(execute=True):
        services.variant_update(actor=None, variant=cheapest, price=Decimal("30"))
    assert names(client, {"price": {"lte": "10.50"}}) == ["Scent 00"]


def test_filter_combinations(client, customer_client):
    seed_catalog(4)
    notes = lambda *values: {"attributes": [{"name": "Notes", "values": list(values)}]}  # noqa: E731
    assert names(client, {"OR": [notes("note-0"), notes("note-3")]}) == ["Scent 00", "Scent 03"]
    assert names(client, {"NOT": notes("note-0", "note-1")}) == ["Scent 02", "Scent 03"]
    assert names(client, {"price": {"gte": "11"},
                          "AND": [{"NOT": notes("note-3")}, {"OR": [notes("note-1"), notes("note-3")]}]}
                 ) == ["Scent 01"]
    # An empty alternative matches everything.
    assert names(client, {"OR": [{}, notes("note-0")]}) == [f"Scent {i:02d}" for i in range(4)]
    # The permission check reaches nested filters.
    result = customer_client.post(
        storefront(), {"first": 10, "filters": {"OR": [{"isPublished": False}]}},
        operation_name="ProductList")
    assert error_codes(result) == ["FORBIDDEN"]


def test_search_on_any_database(client):
    seed_catalog(3)
    product = make_product(name="Vetiver Royale", description="Smoky and dry.")
    make_variant(product=product, sku="VET-50")
    assert names(client, {"search": "vetiver"}) == ["Vetiver Royale"]
    assert names(client, {"search": "smoky"}) == ["Vetiver Royale"]
    assert names(client, {"search": "VET-50"}) == ["Vetiver Royale"]


@pytest.mark.parametrize(
    "filters",
    [
        {"categories": [to_base64("Category", 999999)]},
        {"categories": [to_base64("Product", 1)]},
        {"categories": ["not-a-global-id"]},
        {"price": {"gte": "20", "lte": "10"}},
        {"price": {"gte": "-1"}},
        {"minRating": 6},
        {"attributes": [{"name": "", "values": ["x"]}]},
        {"attributes": [{"name": "Notes", "values": []}]},
    ],
)
def test_bad_filter_values_are_errors(client, filters):
    seed_catalog(1)
    result = client.post(storefront(), {"first": 10, "filters": filters},
                         operation_name="ProductList")
    assert result.get("errors"), result
    assert result["data"] is None
    assert "INTERNAL_SERVER_ERROR" not in error_codes(result)


def test_page_size_is_capped(client):
    seed_catalog(1)
    result = client.post(storefront(), {"first": 101}, operation_name="ProductList")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    result = client.post(storefront(), {"slug": "fragrance", "first": 101},
                         operation_name="CategoryPage")
    assert error_codes(result) == ["BAD_USER_INPUT"]


# ------------------------------------------------------------ ordering


def test_ordering(client):
    catalog = seed_catalog(3)
    cheap = make_product(name="Aaa cheap")
    make_variant(product=cheap, price="1.00")
    make_review(product=cheap, rating=5)
    all_by_name = ["Aaa cheap", "Scent 00", "Scent 01", "Scent 02"]
    assert names(client) == all_by_name
    assert names(client, ordering=[{"name": "DESC"}]) == all_by_name[::-1]
    assert names(client, ordering=[{"price": "ASC"}]) == all_by_name
    assert names(client, ordering=[{"price": "DESC"}]) == all_by_name[::-1]
    assert names(client, ordering=[{"createdAt": "DESC"}]) == [
        "Aaa cheap", "Scent 02", "Scent 01", "Scent 00"]
    assert names(client, ordering=[{"rating": "DESC"}])[0] == "Aaa cheap"
    # Equal ratings: ties broken by id.
    assert names(client, ordering=[{"rating": "ASC"}]) == [
        "Scent 00", "Scent 01", "Scent 02", "Aaa cheap"]
    # Relevance without a search ranks nothing: id order.
    assert names(client, ordering=[{"relevance": "DESC"}]) == [
        p.name for p in catalog["products"]] + ["Aaa cheap"]


def test_ordering_is_one_of(client):
    result = client.post(storefront(), {"first": 10, "ordering": [{"name": "ASC", "price": "ASC"}]},
                         operation_name="ProductList")
    assert result.get("errors")


def test_unrated_and_unpriced_products_sort_last(client):
    priced = make_product(name="B priced")
    make_variant(product=priced, price="5")
    make_review(product=priced, rating=1)
    make_product(name="A bare")
    assert names(client, ordering=[{"price": "ASC"}]) == ["B priced", "A bare"]
    assert names(client, ordering=[{"price": "DESC"}]) == ["B priced", "A bare"]
    assert names(client, ordering=[{"rating": "ASC"}]) == ["B priced", "A bare"]


# ------------------------------------------------------------ selectors


def test_products_visible_to(customer, staff):
    seed_catalog(1)
    assert set(selectors.products_visible_to(user=None).values_list("slug", flat=True)) == {
        "scent-00"}
    assert set(selectors.products_visible_to(user=customer).values_list("slug", flat=True)) == {
        "scent-00"}
    assert set(selectors.products_visible_to(user=staff).values_list("slug", flat=True)) == {
        "scent-00", "secret"}


def test_batched_selectors(django_assert_num_queries):
    catalog = seed_catalog(2)
    ids = [p.pk for p in catalog["products"]] + [catalog["deleted"].pk]
    with django_assert_num_queries(1):
        listed = {
            product.pk: product
            for product in models.Product.objects.filter(pk__in=ids).annotate(
                low=selectors.min_price_expression(),
                high=selectors.max_price_expression(),
                alt=selectors.first_media_expression("alt"),
                review_count=selectors.review_count_expression(),
            )
        }
    assert (listed[ids[1]].low, listed[ids[1]].high) == (Decimal("11.00"), Decimal("13.00"))
    assert {p.alt for p in listed.values()} <= {"front", None}
    assert "front" in {p.alt for p in listed.values()}
    assert listed[ids[0]].review_count == 3
    with django_assert_num_queries(1):
        ratings = selectors.product_ratings(product_ids=ids)
    assert ratings[ids[0]].distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    paths = [c.path for c in catalog["categories"]]
    with django_assert_num_queries(1):
        counts = selectors.category_product_counts(paths=paths)
    assert counts == dict(zip(paths, [2, 1, 0, 0], strict=True))


def test_bad_filters_raise_service_errors():
    with pytest.raises(ServiceError):
        selectors.product_list(user=None, filters=selectors.ProductFilters(category_ids=[12345]))
    with pytest.raises(ServiceError):
        selectors.product_list(user=None, ordering=[("colour", False)])


def test_node_hides_variants_and_reviews_customers_may_not_see(client, staff_client):
    product = make_product(slug="draft", is_published=False)
    variant = make_variant(product=product, sku="DRAFT-1")
    shown = make_product(slug="shown")
    review = make_review(product=shown, rating=1, is_hidden=True)
    query = "query($id: ID!) { node(id: $id) { id } }"
    for node_id in (to_base64("ProductVariant", variant.pk), to_base64("Review", review.pk)):
        assert client.execute(query, {"id": node_id}) == {"node": None}
        assert staff_client.execute(query, {"id": node_id}) == {"node": {"id": node_id}}


CARD = "priceRange { start { amount } stop { amount } } isAvailable rating { average count } " \
       "thumbnail { alt }"


def test_card_fields_of_a_product_from_a_mutation(staff_client):
    data = staff_client.execute(
        "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { "
        + CARD + " } errors { code } } }",
        {"input": {"name": "Lamp", "isPublished": True, "variants": [
            {"sku": "LAMP-S", "price": "10.00", "stock": 0},
            {"sku": "LAMP-L", "price": "25.50", "stock": 3},
        ]}},
    )["productCreate"]
    assert data["errors"] == []
    assert data["product"] == {
        "priceRange": {"start": {"amount": "10.00"}, "stop": {"amount": "25.50"}},
        "isAvailable": True,
        "rating": {"average": None, "count": 0},
        "thumbnail": None,
    }


def test_card_fields_of_a_variants_product(client, django_assert_num_queries):
    product = make_product(slug="mug")
    variant = make_variant(product=product, sku="MUG-1", price=Decimal("7.00"))
    make_stock(variant=variant, quantity_on_hand=0)
    make_review(product=product, rating=4)
    make_media(product=product, alt="mug")
    query = "query($id: ID!) { node(id: $id) { ... on ProductVariant { product { " + CARD + " } } } }"
    with django_assert_num_queries(2):  # the variant with its product; the card values
        data = client.execute(query, {"id": to_base64("ProductVariant", variant.pk)})
    assert data["node"]["product"] == {
        "priceRange": {"start": {"amount": "7.00"}, "stop": {"amount": "7.00"}},
        "isAvailable": False,
        "rating": {"average": 4.0, "count": 1},
        "thumbnail": {"alt": "mug"},
    }


def test_the_category_tree_is_answered_from_loaders_filled_ahead(client, monkeypatch):
    """The categories' connection fills the loaders its page's fields read
    (schema/connection_fields.py, Category.fill_loaders): no field waits on a
    batch of its own, and the answer is the one the batches give."""
    from schema.dataloaders import BatchedLoader

    root = make_category(slug="root")
    child = make_category(slug="child", parent=root)
    make_category(slug="leaf", parent=child)
    make_product(category=child)
    filled = run(client, "CategoryTree")
    loads: list = []

    def load(self, key):
        loads.append(key)
        raise AssertionError("a field waited on a batch")

    monkeypatch.setattr(BatchedLoader, "load", load)
    assert run(client, "CategoryTree") == filled
    assert loads == []
    monkeypatch.undo()
    monkeypatch.setattr(BatchedLoader, "fill", lambda self, keys: None)
    assert run(client, "CategoryTree") == filled  # the same through the batches
    nodes = {e["node"]["slug"]: e["node"] for e in filled["categories"]["edges"]}
    assert nodes["leaf"]["parent"] == {"id": gid("Category", child.pk)}
    assert [c["slug"] for c in nodes["root"]["children"]] == ["child"]
    assert nodes["root"]["productCount"] == 1
