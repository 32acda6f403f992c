"""The response cache of catalog reads (schema/response_cache.py): hits run
nothing, visibility classes never mix, personal documents are never kept,
and every kind of write shows in the next read at once."""

import hashlib
import json
import time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.permissions import Perm
from apps.accounts.services.profile import account_update
from apps.catalog import cache as tags
from apps.core import cache_tags, events
from schema import response_cache
from tests import contract
from schema.cost_limits import COST_HEADER
from tests.conftest import Client, client_for, error_codes, make_user
from tests.factories import make_category, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

PRODUCT_LIST = {"first": 10}


def storefront() -> str:
    return contract.document("storefront/catalog.graphql")


def read(client: Client, operation: str, variables: dict | None = None) -> tuple[dict, int]:
    """The operation's data, and how many SQL queries answering it ran
    (the token's user and permissions included)."""
    with CaptureQueriesContext(connection) as queries:
        data = client.execute(storefront(), variables or {}, operation_name=operation)
    return data, len(queries)


def names(data: dict) -> list[str]:
    return [edge["node"]["name"] for edge in data["products"]["edges"]]


@pytest.fixture
def shop(db):
    category = make_category(name="Tea", slug="tea")
    green = make_product(name="Green", slug="green", category=category)
    black = make_product(name="Black", slug="black", category=category)
    hidden = make_product(name="Hidden", slug="hidden", category=category, is_published=False)
    variants = {p.slug: make_variant(product=p, price="5.00", stock=10)
                for p in (green, black, hidden)}
    return {"category": category, "green": green, "black": black, "hidden": hidden,
            "variants": variants}


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run a write as if it committed: the events it publishes reach their
    handlers (the cache's invalidation among them) before it returns."""

    def run(write, *published: events.Event):
        with django_capture_on_commit_callbacks(execute=True):
            result = write() if write else None
            events.publish(*published)
        return result

    return run


# --- Hits and misses --------------------------------------------------------------


def test_a_repeated_read_is_a_hit_that_runs_no_sql(client, shop):
    first, ran = read(client, "ProductList", PRODUCT_LIST)
    assert ran > 0 and names(first) == ["Black", "Green"]
    again, ran = read(client, "ProductList", PRODUCT_LIST)
    assert (again, ran) == (first, 0)


@pytest.mark.parametrize("operation, variables", [
    ("ProductList", {"first": 10}), ("ProductList", {"first": 1}),
    ("ProductDetail", {"slug": "green"}), ("CategoryTree", {}),
    ("CategoryPage", {"slug": "tea", "first": 10}),
])
def test_every_storefront_read_is_served_from_the_cache(client, shop, operation, variables):
    first, _ = read(client, operation, variables)
    assert read(client, operation, variables) == (first, 0)


def global_id(type_name: str, pk: int) -> str:
    from strawberry import relay

    return str(relay.GlobalID(type_name, str(pk)))


@pytest.mark.parametrize("kind", ["green", "category"])
def test_a_node_lookup_of_a_catalog_object_is_a_hit(client, shop, kind):
    pk, type_name = {
        "green": (shop["green"].pk, "Product"),
        "variant": (shop["variants"]["green"].pk, "ProductVariant"),
        "category": (shop["category"].pk, "Category"),
    }[kind]
    first, ran = read(client, "NodeLookup", {"id": global_id(type_name, pk)})
    assert ran > 0 and first["node"]["id"] == global_id(type_name, pk)
    assert read(client, "NodeLookup", {"id": global_id(type_name, pk)}) == (first, 0)


@pytest.mark.parametrize("type_name", ["User", "Order", "Address", "ProductVariant", "Nonsense"])
def test_a_node_lookup_of_anything_else_is_never_kept(client, shop, type_name):
    user = make_user()
    customer = client_for(user)
    pk = shop["variants"]["green"].pk if type_name == "ProductVariant" else user.pk
    for _ in range(2):
        data, ran = read(customer, "NodeLookup", {"id": global_id(type_name, pk)})
        assert ran > 0
    assert not [key for key in cache_keys() if key.startswith(response_cache.PREFIX)]
    # Nor an id that is no global id at all.
    for _ in range(2):
        client.post(storefront(), {"id": "not-an-id"}, operation_name="NodeLookup")
    assert not [key for key in cache_keys() if key.startswith(response_cache.PREFIX)]


def test_other_variables_are_other_entries(client, shop):
    read(client, "ProductList", {"first": 10})
    data, ran = read(client, "ProductList", {"first": 1})
    assert ran > 0 and names(data) == ["Black"]


def test_customers_share_the_anonymous_entries(client, shop):
    anonymous, _ = read(client, "ProductList", PRODUCT_LIST)
    customer = client_for(make_user())
    with CaptureQueriesContext(connection) as queries:
        assert customer.execute(storefront(), PRODUCT_LIST, operation_name="ProductList") == (
            anonymous)
    assert [q["sql"] for q in queries if "catalog_" in q["sql"]] == []


def test_staff_who_manage_the_catalog_never_share_with_customers(client, shop):
    manager = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    staff_view, _ = read(manager, "ProductList", PRODUCT_LIST)
    assert names(staff_view) == ["Black", "Green", "Hidden"]
    anonymous, ran = read(client, "ProductList", PRODUCT_LIST)
    assert ran > 0 and names(anonymous) == ["Black", "Green"]
    assert names(read(manager, "ProductList", PRODUCT_LIST)[0]) == ["Black", "Green", "Hidden"]
    # Staff without the permission see what customers see, from their entry.
    other_staff = client_for(make_user(perms=[Perm.MANAGE_ORDERS]))
    with CaptureQueriesContext(connection) as queries:
        seen = other_staff.execute(storefront(), PRODUCT_LIST, operation_name="ProductList")
    assert seen == anonymous
    assert [q["sql"] for q in queries if "catalog_" in q["sql"]] == []


def test_unpublished_product_detail_is_never_shown_from_a_staff_entry(client, shop):
    manager = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    assert read(manager, "ProductDetail", {"slug": "hidden"})[0]["product"]["name"] == "Hidden"
    assert read(client, "ProductDetail", {"slug": "hidden"})[0] == {"product": None}


PERSONAL = [
    "query { me { email } products(first: 2) { edges { node { name } } } }",
    "query { products(first: 2) { edges { node { variants { stocks { quantity } } } } } }",
    "query($id: ID!) { node(id: $id) { id ... on Order { number } } }",
    "mutation { tokenRefresh(refreshToken: \"x\") { errors { code } } }",
]


@pytest.mark.parametrize("document", PERSONAL)
def test_personal_and_other_documents_are_never_kept(shop, document):
    client = client_for(make_user(perms=[Perm.MANAGE_PRODUCTS]))
    variables = {"id": "UHJvZHVjdDox"} if "$id" in document else None
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            client.post(document, variables)
        assert len(queries) > 0
    assert not [key for key in cache_keys() if key.startswith(response_cache.PREFIX)]


def test_an_answer_with_errors_is_never_kept(client, shop):
    document = "query { products(first: 2) { edges { node { variants { stocks { quantity } } } } } }"
    for _ in range(2):
        assert error_codes(client.post(document)) == ["UNAUTHENTICATED"]
    bad = {"first": 10, "filters": {"priceGte": "-1"}}
    for _ in range(2):
        result = client.post(storefront(), bad, operation_name="ProductList")
        assert error_codes(result) == ["BAD_USER_INPUT"]


def test_the_setting_turns_it_off(client, shop, settings):
    settings.GRAPHQL_RESPONSE_CACHE = False
    read(client, "ProductList", PRODUCT_LIST)
    assert read(client, "ProductList", PRODUCT_LIST)[1] > 0


def cache_keys() -> list[str]:
    from django.core.cache import cache

    store = getattr(cache, "_cache", None)
    if isinstance(store, dict):  # local memory: ":1:key"
        return [key.split(":", 2)[2] for key in store]
    return [key.decode().split(":", 2)[2]
            for key in cache._cache.get_client().keys(f"{cache.key_prefix}:*")]


# --- Writes show in the next read ----------------------------------------------------


def detail(client: Client, slug: str) -> dict:
    return read(client, "ProductDetail", {"slug": slug})[0]["product"]


def test_a_product_change_shows_in_its_page_and_the_lists(client, shop, committing):
    green = shop["green"]
    read(client, "ProductList", PRODUCT_LIST)
    detail(client, "green")
    green.name = "Sencha"
    committing(lambda: green.save(update_fields=["name"]),
               events.ProductChanged(product_id=green.pk, part="product", actor_id=None))
    assert names(read(client, "ProductList", PRODUCT_LIST)[0]) == ["Black", "Sencha"]
    assert detail(client, "green")["name"] == "Sencha"


@pytest.mark.parametrize("move", [events.ProductUnpublished, events.ProductDeleted])
def test_unpublishing_or_deleting_empties_its_page_and_lists(client, shop, committing, move):
    green = shop["green"]
    read(client, "ProductList", PRODUCT_LIST)
    detail(client, "green")
    committing(lambda: type(green).objects.filter(pk=green.pk).update(is_published=False),
               move(product_id=green.pk, actor_id=None))
    assert names(read(client, "ProductList", PRODUCT_LIST)[0]) == ["Black"]
    assert detail(client, "green") is None


def test_a_product_change_shows_in_its_node_lookup(client, shop, committing):
    green, hidden = shop["green"], shop["hidden"]
    lookup = {"id": global_id("Product", green.pk)}
    assert read(client, "NodeLookup", lookup)[0]["node"]["name"] == "Green"
    green.name = "Sencha"
    committing(lambda: green.save(update_fields=["name"]),
               events.ProductChanged(product_id=green.pk, part="product", actor_id=None))
    assert read(client, "NodeLookup", lookup)[0]["node"]["name"] == "Sencha"
    # A lookup that found nothing finds the product once it is published.
    lookup = {"id": global_id("Product", hidden.pk)}
    assert read(client, "NodeLookup", lookup)[0] == {"node": None}
    committing(lambda: type(hidden).objects.filter(pk=hidden.pk).update(is_published=True),
               events.ProductPublished(product_id=hidden.pk, actor_id=None))
    assert read(client, "NodeLookup", lookup)[0]["node"]["name"] == "Hidden"


def test_a_variant_change_shows_in_its_node_lookup(client, shop, committing):
    variant = shop["variants"]["green"]
    lookup = {"id": global_id("ProductVariant", variant.pk)}
    first = read(client, "NodeLookup", lookup)[0]["node"]["sku"]
    variant.sku = "GREEN-50G"
    committing(lambda: variant.save(update_fields=["sku"]),
               events.ProductChanged(product_id=variant.product_id, part="variants",
                                     actor_id=None))
    assert first != "GREEN-50G"
    assert read(client, "NodeLookup", lookup)[0]["node"]["sku"] == "GREEN-50G"


def test_a_created_product_is_found_by_the_slug_that_found_nothing(client, shop, committing):
    assert detail(client, "oolong") is None
    read(client, "ProductList", PRODUCT_LIST)
    product = committing(lambda: make_product(name="Oolong", slug="oolong"))
    committing(None, events.ProductCreated(product_id=product.pk, actor_id=None))
    assert detail(client, "oolong")["name"] == "Oolong"
    assert names(read(client, "ProductList", PRODUCT_LIST)[0]) == ["Black", "Green", "Oolong"]


def test_a_price_drop_shows_at_once(client, shop, committing):
    variant = shop["variants"]["green"]
    read(client, "ProductList", PRODUCT_LIST)
    variant.price = "3.00"
    committing(lambda: variant.save(update_fields=["price"]),
               events.VariantPriceDropped(variant_id=variant.pk, old_price="5.00",
                                          new_price="3.00"))
    cards = read(client, "ProductList", PRODUCT_LIST)[0]["products"]["edges"]
    assert cards[1]["node"]["priceRange"]["start"]["amount"] == "3.00"


def test_a_review_and_its_author_name_show_at_once(client, shop, committing):
    green = shop["green"]
    assert detail(client, "green")["rating"]["count"] == 0
    review = committing(lambda: make_review(product=green, rating=4))
    committing(None, events.ProductChanged(product_id=green.pk, part="reviews", actor_id=None))
    page = detail(client, "green")
    assert page["rating"]["count"] == 1
    assert page["reviews"]["edges"][0]["node"]["authorName"] == "Ada L."
    committing(lambda: account_update(user=review.user, first_name="Grace"))
    assert detail(client, "green")["reviews"]["edges"][0]["node"]["authorName"] == "Grace L."


def test_a_category_change_shows_in_the_tree_and_the_pages(client, shop, committing):
    category = shop["category"]
    read(client, "CategoryTree")
    detail(client, "green")
    category.name = "Teas"
    committing(lambda: category.save(update_fields=["name"]),
               events.CategoryChanged(category_id=category.pk, actor_id=None))
    tree = read(client, "CategoryTree")[0]["categories"]["edges"]
    assert [edge["node"]["name"] for edge in tree] == ["Teas"]
    assert detail(client, "green")["category"]["name"] == "Teas"


def stock_change(variant, *, before: int, after: int) -> events.StockChanged:
    variant.stocks.update(quantity_on_hand=after)
    return events.StockChanged(variant_id=variant.pk, product_id=variant.product_id,
                               available_before=before, available_after=after)


def test_a_stock_change_shows_on_the_product_page_and_leaves_the_lists(client, shop,
                                                                        committing):
    variant = shop["variants"]["green"]
    read(client, "ProductList", PRODUCT_LIST)
    assert detail(client, "green")["variants"][0]["quantityAvailable"] == 10
    committing(None, stock_change(variant, before=10, after=7))
    assert detail(client, "green")["variants"][0]["quantityAvailable"] == 7
    assert read(client, "ProductList", PRODUCT_LIST)[1] == 0


def test_stock_crossing_zero_shows_in_the_lists(client, shop, committing):
    variant = shop["variants"]["green"]
    read(client, "ProductList", PRODUCT_LIST)
    committing(None, stock_change(variant, before=10, after=0))
    cards = read(client, "ProductList", PRODUCT_LIST)[0]["products"]["edges"]
    assert [card["node"]["isAvailable"] for card in cards] == [True, False]


def test_a_checkout_storm_on_one_product_leaves_the_others_entries(client, shop, committing):
    green = shop["variants"]["green"]
    read(client, "ProductList", PRODUCT_LIST)
    read(client, "CategoryPage", {"slug": "tea", "first": 10})
    detail(client, "black")
    for left in range(9, 0, -1):
        committing(None, stock_change(green, before=left + 1, after=left))
        assert detail(client, "green")["variants"][0]["quantityAvailable"] == left
    assert read(client, "ProductList", PRODUCT_LIST)[1] == 0
    assert read(client, "CategoryPage", {"slug": "tea", "first": 10})[1] == 0
    assert read(client, "ProductDetail", {"slug": "black"})[1] == 0


# --- Never wrong: building races, lost versions ----------------------------------------


def test_an_answer_built_across_a_change_is_not_kept():
    cache_tags.bump(["product:1"])  # gives the tag its first version
    since = cache_tags.clock_of(cache_tags_clock())
    assert cache_tags.stamp(["product:1"], since=since) == {
        "product:1": since}
    cache_tags.bump(["product:1"])  # committed while the answer was being built
    assert cache_tags.stamp(["product:1"], since=since) is None


def cache_tags_clock():
    from django.core.cache import cache

    return cache.get(cache_tags.CLOCK)


def test_a_lost_version_never_makes_an_old_entry_current(client, shop):
    from django.core.cache import cache

    read(client, "ProductList", PRODUCT_LIST)
    cache.delete(cache_tags.version_key(tags.product_tag(shop["green"].pk)))
    assert read(client, "ProductList", PRODUCT_LIST)[1] > 0  # rebuilt
    assert read(client, "ProductList", PRODUCT_LIST)[1] == 0


def test_a_version_lost_while_anything_changed_refuses_the_entry():
    from django.core.cache import cache

    cache_tags.bump(["product:1"])
    since = cache_tags.clock_of(cache_tags_clock())
    cache.delete(cache_tags.version_key("product:1"))
    cache_tags.bump(["product:2"])  # the clock moved while the entry was built
    assert cache_tags.stamp(["product:1"], since=since) is None
    assert cache.get(cache_tags.version_key("product:1")) > since


def test_versions_are_read_as_the_cache_holds_them():
    """cache_tags reads versions in one MGET past Django's key checks on
    Redis: the same values as the cache API gives."""
    from django.core.cache import cache

    cache_tags.bump(["product:7", "category:3"])
    keys = [cache_tags.version_key(tag) for tag in ("product:7", "category:3", "product:8")]
    found = cache_tags._versions(keys)
    assert found == cache.get_many(keys)
    assert set(found) == set(keys[:2]) and all(isinstance(v, int) for v in found.values())
    assert cache_tags.current({"product:7": found[keys[0]], "category:3": found[keys[1]]})
    cache_tags.bump(["category:3"])
    assert not cache_tags.current({"product:7": found[keys[0]], "category:3": found[keys[1]]})


def test_a_hit_is_charged_to_the_budget_as_an_execution_is(client, shop, settings):
    told = client.post(storefront(), PRODUCT_LIST, operation_name="ProductList",
                       headers={COST_HEADER: "1"})
    cost = told["extensions"]["cost"]["requestedQueryCost"]
    settings.GRAPHQL_COST_RESTORE_RATE = 0.001
    settings.GRAPHQL_COST_BUCKET_SIZE = 2 * cost + 1
    client.address = "10.0.0.2"  # a bucket of that size
    for _ in range(2):
        assert read(client, "ProductList", PRODUCT_LIST)[1] == 0
    refused = client.request("POST", json={
        "query": storefront(), "variables": PRODUCT_LIST, "operationName": "ProductList"})
    assert (refused.status_code, error_codes(refused.json())) == (429, ["THROTTLED"])


def test_signed_in_hits_tell_their_cost_as_executions_do(shop):
    customer = client_for(make_user())
    # The clock still: the bucket refills nothing between the two (a slow
    # first request would otherwise see it full again).
    with time_machine.travel(time.time(), tick=False):
        first = customer.post(storefront(), PRODUCT_LIST, operation_name="ProductList")
        second = customer.post(storefront(), PRODUCT_LIST, operation_name="ProductList")
    assert second["data"] == first["data"]
    cost = second["extensions"]["cost"]
    assert cost["requestedQueryCost"] == first["extensions"]["cost"]["requestedQueryCost"]
    assert cost["throttleStatus"]["currentlyAvailable"] < (
        first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"])


# --- HTTP caching of GET (persisted) queries ---------------------------------------------


def product_list_document() -> str:
    return contract.operations("storefront/catalog.graphql", "ProductList")


def apq_get(client: Client, document: str, variables: dict, **headers: str):
    """A persisted query's GET, as Apollo Client sends it once registered."""
    params = {
        "variables": json.dumps(variables, separators=(",", ":")),
        "extensions": json.dumps({"persistedQuery": {
            "version": 1, "sha256Hash": hashlib.sha256(document.encode()).hexdigest()}}),
    }
    # Apollo Client names the operation, which proves the request is no
    # cross-site form (schema/csrf.py).
    return client.request("GET", params=params,
                          headers={"X-Apollo-Operation-Name": "ProductList",
                                   "Accept": "application/json", **headers})


@pytest.fixture
def registered(client, shop):
    """ProductList registered as a persisted query (sent once with its text)."""
    document = product_list_document()
    response = client.request("POST", json={
        "query": document, "variables": PRODUCT_LIST, "extensions": {"persistedQuery": {
            "version": 1, "sha256Hash": hashlib.sha256(document.encode()).hexdigest()}}})
    assert response.status_code == 200 and "errors" not in response.json()
    return document


def test_a_persisted_get_answers_a_strong_etag_and_revalidates(client, registered):
    first = apq_get(client, registered, PRODUCT_LIST)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert {"Accept", "Authorization"} <= {
        v.strip() for v in first.headers["Vary"].split(",")}
    again = apq_get(client, registered, PRODUCT_LIST)
    assert (again.content, again.headers["ETag"]) == (first.content, etag)
    with CaptureQueriesContext(connection) as queries:
        revalidated = apq_get(client, registered, PRODUCT_LIST, **{"If-None-Match": etag})
    assert (revalidated.status_code, revalidated.content, len(queries)) == (304, b"", 0)
    assert revalidated.headers["ETag"] == etag
    assert revalidated.headers["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_a_change_gives_a_new_etag(client, registered, shop, committing):
    etag = apq_get(client, registered, PRODUCT_LIST).headers["ETag"]
    green = shop["green"]
    green.name = "Sencha"
    committing(lambda: green.save(update_fields=["name"]),
               events.ProductChanged(product_id=green.pk, part="product", actor_id=None))
    changed = apq_get(client, registered, PRODUCT_LIST, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Sencha" in changed.text


def test_the_first_answer_is_the_bytes_its_etag_names(client, registered):
    settings_free = apq_get(client, registered, {"first": 1})  # a miss, stored
    hit = apq_get(client, registered, {"first": 1})
    assert settings_free.content == hit.content
    assert settings_free.headers["ETag"] == hit.headers["ETag"]


@pytest.mark.parametrize("who", ["customer", "catalog manager"])
def test_signed_in_answers_are_private(registered, who):
    user = make_user(perms=[Perm.MANAGE_PRODUCTS] if who == "catalog manager" else [])
    for _ in range(2):
        response = apq_get(client_for(user), registered, PRODUCT_LIST)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in response.headers


def test_personal_gets_are_private(client, db):
    response = client.request("GET", params={"query": "{ me { email } }"},
                              headers={"Apollo-Require-Preflight": "true"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_cdn_may_be_allowed_some_staleness(client, registered, settings):
    settings.GRAPHQL_HTTP_SHARED_MAX_AGE = 5
    settings.GRAPHQL_HTTP_STALE_WHILE_REVALIDATE = 30
    response = apq_get(client, registered, PRODUCT_LIST)
    assert response.headers["Cache-Control"] == (
        "public, max-age=0, must-revalidate, s-maxage=5, stale-while-revalidate=30")
