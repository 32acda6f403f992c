"""Every kind of catalog write through the API shows in the next read at once,
although that read's entry was cached: the services publish their events,
whose handlers make the entries stale after the commit (each write here is
committed, as a request's is)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import contract
from tests.conftest import Client, client_for, make_user
from tests.factories import make_category, make_product, make_variant
from tests.test_catalog_admin import (
    CATEGORY_UPDATE,
    MEDIA_CREATE,
    PRODUCT_UPDATE,
    STOCK_ADJUST,
    VARIANT_UPDATE,
    gid,
    image_bytes,
)
from tests.test_reviews import SET_HIDDEN
from tests.test_reviews import create as review_create

pytestmark = pytest.mark.django_db


def read(operation: str, variables: dict) -> tuple[dict, int]:
    """An anonymous read; its data and how many SQL queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        data = Client().execute(contract.document("storefront/catalog.graphql"), variables,
                                operation_name=operation)
    return data, len(queries)


def cached(operation: str, variables: dict) -> dict:
    """Read until the answer comes from the cache; the answer."""
    data, _ = read(operation, variables)
    assert read(operation, variables) == (data, 0)
    return data


LIST = {"first": 10}


def cards() -> list[dict]:
    return [edge["node"] for edge in read("ProductList", LIST)[0]["products"]["edges"]]


@pytest.fixture
def shop(db):
    category = make_category(name="Tea", slug="tea")
    green = make_product(name="Green", slug="green", category=category)
    make_product(name="Black", slug="black", category=category)
    variant = make_variant(product=green, price="5.00", stock=10)
    cached("ProductList", LIST)
    cached("ProductDetail", {"slug": "green"})
    cached("CategoryTree", {})
    return {"category": category, "green": green, "variant": variant}


@pytest.fixture
def write(staff_client, django_capture_on_commit_callbacks):
    def run(document: str, variables: dict, *, client=None) -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            data = (client or staff_client).execute(document, variables)
        (payload,) = data.values()
        assert payload["errors"] == [], payload
        return payload

    return run


def test_a_product_update(shop, write):
    write(PRODUCT_UPDATE, {"id": gid("Product", shop["green"].pk), "input": {"name": "Sencha"}})
    assert [card["name"] for card in cards()] == ["Black", "Sencha"]
    assert read("ProductDetail", {"slug": "green"})[0]["product"]["name"] == "Sencha"


def test_unpublishing(shop, write):
    write(PRODUCT_UPDATE, {"id": gid("Product", shop["green"].pk),
                           "input": {"isPublished": False}})
    assert [card["name"] for card in cards()] == ["Black"]
    assert read("ProductDetail", {"slug": "green"})[0] == {"product": None}


def test_a_variant_price(shop, write):
    write(VARIANT_UPDATE, {"id": gid("ProductVariant", shop["variant"].pk),
                           "input": {"price": "3.50"}})
    assert cards()[1]["priceRange"]["start"]["amount"] == "3.50"


def test_a_stock_change_shows_on_the_page_and_leaves_the_lists(shop, write):
    write(STOCK_ADJUST, {"variantId": gid("ProductVariant", shop["variant"].pk), "delta": -3,
                         "reason": "count"})
    page = read("ProductDetail", {"slug": "green"})[0]["product"]
    assert page["variants"][0]["quantityAvailable"] == 7
    assert read("ProductList", LIST)[1] == 0  # still available: the list stands


def test_selling_out_shows_in_the_lists(shop, write):
    write(STOCK_ADJUST, {"variantId": gid("ProductVariant", shop["variant"].pk), "delta": -10,
                         "reason": "count"})
    assert [card["isAvailable"] for card in cards()] == [False, False]  # Black has no variant


def test_a_category_update(shop, write):
    write(CATEGORY_UPDATE, {"id": gid("Category", shop["category"].pk),
                            "input": {"name": "Teas"}})
    tree = read("CategoryTree", {})[0]["categories"]["edges"]
    assert [edge["node"]["name"] for edge in tree] == ["Teas"]
    assert cards()[0]["category"]["name"] == "Teas"


def test_an_image(shop, staff_client, django_capture_on_commit_callbacks):
    assert cards()[1]["thumbnail"] is None
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.upload(
            MEDIA_CREATE, {"productId": gid("Product", shop["green"].pk), "image": None,
                           "alt": "Leaves"},
            {"variables.image": ("leaves.png", image_bytes("PNG"), "image/png")})
    assert response.json()["data"]["productMediaCreate"]["errors"] == []
    assert cards()[1]["thumbnail"]["alt"] == "Leaves"


def test_a_review_and_its_moderation(shop, write, django_capture_on_commit_callbacks):
    customer = client_for(make_user(first_name="Ada", last_name="Lovelace"))
    with django_capture_on_commit_callbacks(execute=True):
        review = review_create(customer, shop["green"], rating=4)
    assert review["errors"] == []
    assert cards()[1]["rating"] == {"average": 4.0, "count": 1}
    write(SET_HIDDEN, {"id": review["review"]["id"], "isHidden": True})
    assert cards()[1]["rating"] == {"average": None, "count": 0}
