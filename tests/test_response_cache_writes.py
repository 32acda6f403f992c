"""Every kind of catalog write through the API shows in the next read at once,
although that read's entry was cached: the services publish their events,
whose handlers make the entries stale after the commit (each write here is
committed, as a request's is)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.models import OutboxEvent
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


# --- A reviewer's name: accounts, not the catalog, change it -------------------------------


ACCOUNT_UPDATE = contract.operations("storefront/account.graphql", "AccountUpdate")


def signature() -> str:
    page = read("ProductDetail", {"slug": "green"})[0]["product"]
    return page["reviews"]["edges"][0]["node"]["authorName"]


@pytest.fixture
def reviewer(shop, django_capture_on_commit_callbacks):
    """Ada, whose review is on the cached page of Green."""
    ada = make_user(first_name="Ada", last_name="Lovelace")
    with django_capture_on_commit_callbacks(execute=True):
        assert review_create(client_for(ada), shop["green"], rating=4)["errors"] == []
    assert signature() == "Ada L."
    cached("ProductDetail", {"slug": "green"})
    return ada


def name_changes(user) -> int:
    return OutboxEvent.objects.filter(type="AccountNameChanged",
                                      payload={"user_id": user.pk}).count()


def test_a_reviewer_renamed_by_account_update(reviewer, write):
    write(ACCOUNT_UPDATE, {"input": {"lastName": "Byron"}}, client=client_for(reviewer))
    assert signature() == "Ada B."
    assert name_changes(reviewer) == 1


def test_an_account_update_that_changes_no_name_tells_nobody(reviewer, write):
    write(ACCOUNT_UPDATE, {"input": {"firstName": " Ada ", "lastName": "Lovelace"}},
          client=client_for(reviewer))
    assert name_changes(reviewer) == 0
    assert read("ProductDetail", {"slug": "green"})[1] == 0  # the entry stands


def admin_change(browser, user, **changes) -> None:
    """The user's page of the Django admin, saved with `changes`."""
    data = {
        "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
        "external_identities-TOTAL_FORMS": "0", "external_identities-INITIAL_FORMS": "0",
        **changes,
    }
    response = browser.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]


def test_a_reviewer_renamed_in_the_django_admin(reviewer, django_capture_on_commit_callbacks):
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(make_user(is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks(execute=True):
        admin_change(browser, reviewer, first_name="Augusta")
    assert signature() == "Augusta L."
    assert name_changes(reviewer) == 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_change(browser, reviewer, first_name="Augusta", is_email_verified="on")
    reviewer.refresh_from_db()
    assert (reviewer.first_name, reviewer.is_email_verified) == ("Augusta", True)
    assert name_changes(reviewer) == 1  # the name as it was: nothing told
    assert read("ProductDetail", {"slug": "green"})[1] == 0
