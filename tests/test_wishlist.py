"""The wishlist through the endpoint, with the contract's own operations, and
its services."""

from decimal import Decimal

import pytest
from graphql import parse
from strawberry.relay import to_base64

from apps.catalog import services as catalog_services
from apps.core.errors import ServiceError
from apps.wishlist import selectors, services
from apps.wishlist.models import WishlistItem
from schema.cost import operation_cost
from schema.schema import schema
from tests import contract
from tests.conftest import client_for, error_codes, make_user, problems
from tests.factories import make_media, make_product, make_review, make_variant
from tests.test_inventory import _in_threads as race
from tests.test_inventory import keeps_default_warehouse  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

# Measured; the point is that it does not grow with the list. The token's
# user, `me`, the items, their products with the card values annotated.
MY_WISHLIST_QUERIES = 4
# The token's user; look-up, lock, check, count and insert; the list.
WISHLIST_ADD_QUERIES = 12


def document() -> str:
    return contract.operations(
        "storefront/orders.graphql", "MyWishlist", "WishlistAdd", "WishlistRemove"
    )


def gid(product) -> str:
    return to_base64("Product", product.pk)


def stocked_product(**extra):
    product = make_product(**extra)
    make_variant(product=product, price=Decimal("12.50"), stock=3)
    return product


def add(client, product_or_id) -> dict:
    product_id = product_or_id if isinstance(product_or_id, str) else gid(product_or_id)
    data = client.execute(document(), {"productId": product_id}, operation_name="WishlistAdd")
    return data["wishlistAdd"]


def remove(client, product_or_id) -> dict:
    product_id = product_or_id if isinstance(product_or_id, str) else gid(product_or_id)
    data = client.execute(document(), {"productId": product_id}, operation_name="WishlistRemove")
    return data["wishlistRemove"]


def my_wishlist(client) -> list[dict]:
    return client.execute(document(), operation_name="MyWishlist")["me"]["wishlist"]


def listed(payload: dict) -> list[str]:
    return [item["product"]["id"] for item in payload["wishlist"]]


def test_add_list_and_remove(customer_client):
    first, second = stocked_product(), make_product(name="Sold out")
    assert listed(add(customer_client, first)) == [gid(first)]
    answer = add(customer_client, second)
    assert answer["errors"] == []
    assert listed(answer) == [gid(second), gid(first)]  # newest first

    items = my_wishlist(customer_client)
    assert [i["product"]["id"] for i in items] == [gid(second), gid(first)]
    assert [i["product"]["isAvailable"] for i in items] == [False, True]
    assert items[1]["product"]["name"] == first.name
    assert items[1]["product"]["slug"] == first.slug
    assert items[0]["addedAt"]

    answer = remove(customer_client, second)
    assert answer["errors"] == [] and listed(answer) == [gid(first)]
    assert [i["product"]["id"] for i in my_wishlist(customer_client)] == [gid(first)]


def test_adding_twice_is_harmless_and_keeps_the_first_time(customer, customer_client):
    product = stocked_product()
    add(customer_client, product)
    added_at = my_wishlist(customer_client)[0]["addedAt"]
    answer = add(customer_client, product)
    assert answer["errors"] == [] and listed(answer) == [gid(product)]
    assert my_wishlist(customer_client)[0]["addedAt"] == added_at
    assert WishlistItem.objects.filter(user=customer).count() == 1


def test_removing_what_is_not_there_is_harmless(customer_client):
    kept, never_added = stocked_product(), stocked_product()
    add(customer_client, kept)
    answer = remove(customer_client, never_added)
    assert answer["errors"] == [] and listed(answer) == [gid(kept)]
    answer = remove(customer_client, to_base64("Product", 999_999))
    assert answer["errors"] == [] and listed(answer) == [gid(kept)]


@pytest.mark.parametrize("kind", ["unpublished", "deleted", "unknown", "other type", "malformed"])
def test_a_product_the_customer_cannot_see_is_not_found(customer, customer_client, kind):
    product_id = {
        "unpublished": lambda: gid(make_product(is_published=False)),
        "deleted": lambda: gid(make_product(deleted=True)),
        "unknown": lambda: to_base64("Product", 999_999),
        "other type": lambda: to_base64("Category", stocked_product().pk),
        "malformed": lambda: "not an id",
    }[kind]()
    answer = add(customer_client, product_id)
    assert problems(answer) == [("productId", "NOT_FOUND")]
    assert answer["wishlist"] is None
    assert not WishlistItem.objects.filter(user=customer).exists()


def test_removing_with_an_id_that_names_no_product_is_not_found(customer_client):
    answer = remove(customer_client, "not an id")
    assert problems(answer) == [("productId", "NOT_FOUND")]


def test_a_product_unpublished_or_deleted_later_drops_out(staff, customer_client):
    hidden, deleted, kept = stocked_product(), stocked_product(), stocked_product()
    for product in (hidden, deleted, kept):
        add(customer_client, product)
    catalog_services.product_unpublish(actor=staff, product=hidden)
    catalog_services.product_delete(actor=staff, product=deleted)
    assert [i["product"]["id"] for i in my_wishlist(customer_client)] == [gid(kept)]
    assert listed(remove(customer_client, hidden)) == [gid(kept)]  # may still clear it out

    catalog_services.product_restore(actor=staff, product=deleted)
    assert [i["product"]["id"] for i in my_wishlist(customer_client)] == [gid(kept), gid(deleted)]


def test_a_customer_sees_only_their_own_list(customer, customer_client):
    mine, theirs = stocked_product(), stocked_product()
    add(customer_client, mine)
    other = client_for(make_user())
    add(other, theirs)
    assert [i["product"]["id"] for i in my_wishlist(customer_client)] == [gid(mine)]
    assert [i["product"]["id"] for i in my_wishlist(other)] == [gid(theirs)]


def test_anonymous_callers_are_refused(client):
    product = stocked_product()
    result = client.post(document(), {"productId": gid(product)}, operation_name="WishlistAdd")
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert client.execute(document(), operation_name="MyWishlist")["me"] is None
    assert not WishlistItem.objects.exists()


@pytest.mark.parametrize("size", [2, 12])
def test_my_wishlist_costs_the_same_whatever_its_length(
    customer, customer_client, django_assert_num_queries, size
):
    for i in range(size):
        product = stocked_product()
        make_media(product=product, with_thumbnail=True)
        make_review(product=product, rating=4)
        services.wishlist_add(user=customer, product_id=product.pk)
    with django_assert_num_queries(MY_WISHLIST_QUERIES):
        items = my_wishlist(customer_client)
    assert len(items) == size
    assert all(item["product"]["isAvailable"] for item in items)


@pytest.mark.parametrize("size", [2, 12])
def test_the_answer_of_a_mutation_costs_the_same_whatever_the_length(
    customer, customer_client, django_assert_num_queries, size
):
    for _ in range(size):
        services.wishlist_add(user=customer, product_id=stocked_product().pk)
    product = stocked_product()
    with django_assert_num_queries(WISHLIST_ADD_QUERIES):
        answer = add(customer_client, product)
    assert len(answer["wishlist"]) == size + 1


# --- The services, without GraphQL ---------------------------------------------------------------


def test_the_list_is_bounded(customer, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS", 2)
    first, second, third = stocked_product(), stocked_product(), stocked_product()
    services.wishlist_add(user=customer, product_id=first.pk)
    services.wishlist_add(user=customer, product_id=second.pk)
    services.wishlist_add(user=customer, product_id=second.pk)  # already there: fine
    with pytest.raises(ServiceError) as refused:
        services.wishlist_add(user=customer, product_id=third.pk)
    assert [(e.field, e.code) for e in refused.value.errors] == [("product_id", "INVALID")]
    assert "at most 2" in str(refused.value)


def test_visibility_of_items(customer, staff):
    product = stocked_product()
    item = services.wishlist_add(user=customer, product_id=product.pk)
    other = make_user()
    assert list(selectors.wishlist_items_visible_to(user=customer)) == [item]
    assert list(selectors.wishlist_items_visible_to(user=other)) == []
    assert list(selectors.wishlist_items_visible_to(user=None)) == []
    # Staff who manage customers see every customer's list.
    assert list(selectors.wishlist_items_visible_to(user=staff)) == [item]


def test_the_operations_fit_the_cost_limit(settings):
    parsed = parse(document())
    for name in ("MyWishlist", "WishlistAdd", "WishlistRemove"):
        value = operation_cost(schema=schema._schema, document=parsed, operation_name=name,
                               variables={"productId": "x"},
                               max_page_size=settings.GRAPHQL_MAX_PAGE_SIZE)
        assert 2 * value <= settings.GRAPHQL_MAX_COST, (name, value)


@pytest.mark.postgresql  # row locks
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_adds_at_once_make_one_row_and_no_error(transactional_db):
    customer, product = make_user(), stocked_product()
    results = race(6, lambda i: services.wishlist_add(user=customer, product_id=product.pk))
    assert all(isinstance(r, WishlistItem) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert WishlistItem.objects.filter(user=customer).count() == 1


@pytest.mark.postgresql  # row locks
@pytest.mark.usefixtures("keeps_default_warehouse")
def test_adds_at_once_cannot_pass_the_limit(transactional_db, monkeypatch):
    monkeypatch.setattr(services, "MAX_ITEMS", 3)
    customer = make_user()
    products = [stocked_product() for _ in range(6)]
    results = race(6, lambda i: services.wishlist_add(user=customer, product_id=products[i].pk))
    assert sum(isinstance(r, ServiceError) for r in results) == 3, results
    assert WishlistItem.objects.filter(user=customer).count() == 3
