"""Reviews: reviewCreate through the endpoint with the contract's own
operation, the verified-purchase rule, moderation (reviewSetHidden and the
Django admin) and the product's rating, which follows every write at once."""

import pytest
from django.db.models import QuerySet
from strawberry.relay import to_base64

from apps.accounts.permissions import Perm
from apps.catalog.models import Review
from apps.core.errors import ServiceError
from apps.reviews import services
from tests import contract
from tests.conftest import client_for, error_codes, make_user, problems
from tests.factories import make_order, make_product, make_review, make_variant

pytestmark = pytest.mark.django_db

SET_HIDDEN = """
mutation ($id: ID!, $isHidden: Boolean!) {
  reviewSetHidden(id: $id, isHidden: $isHidden) {
    review { id isHidden }
    errors { field message code }
  }
}"""

PRODUCT = """
query ($slug: String!) {
  product(slug: $slug) {
    rating { average count distribution { stars count } }
    reviews(first: 10) { totalCount edges { node { id rating } } }
  }
}"""


def gid(type_name: str, obj) -> str:
    return to_base64(type_name, obj.pk)


def create(client, product, **input) -> dict:
    input.setdefault("rating", 5)
    document = contract.operations("storefront/orders.graphql", "ReviewCreate")
    data = client.execute(document, {"productId": gid("Product", product), "input": input})
    return data["reviewCreate"]


def shown(client, product) -> dict:
    return client.execute(PRODUCT, {"slug": product.slug})["product"]


@pytest.fixture
def product():
    product = make_product()
    make_variant(product=product, stock=10)
    return product


@pytest.fixture
def moderator():
    return make_user(perms=[Perm.MANAGE_PRODUCTS])


# --- reviewCreate ---------------------------------------------------------------------------


def test_a_review_shows_and_counts_at_once(customer_client, client, product,
                                           django_capture_on_commit_callbacks):
    make_review(product=product, rating=2)
    assert shown(client, product)["rating"]["average"] == 2.0

    # Committed, as a request's write is: the response cache hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        payload = create(customer_client, product, rating=5, title="  Lovely  ",
                         body="Smells of rain.")
    assert payload["errors"] == []
    review = payload["review"]
    assert review == {"id": review["id"], "rating": 5, "title": "Lovely",
                      "body": "Smells of rain.", "verifiedPurchase": False}

    page = shown(client, product)
    assert page["rating"]["average"] == 3.5 and page["rating"]["count"] == 2
    assert {"stars": 5, "count": 1} in page["rating"]["distribution"]
    assert page["reviews"]["totalCount"] == 2
    assert page["reviews"]["edges"][0]["node"]["id"] == review["id"]  # newest first


def test_title_and_body_are_optional(customer_client, product):
    payload = create(customer_client, product, rating=4)
    assert payload["errors"] == []
    assert (payload["review"]["title"], payload["review"]["body"]) == ("", "")


def test_one_review_per_customer_and_product(customer_client, customer, product):
    assert create(customer_client, product)["errors"] == []
    payload = create(customer_client, product, rating=1)
    assert problems(payload) == [("productId", "UNIQUE")] and payload["review"] is None
    assert Review.objects.get(user=customer).rating == 5
    # Another customer, or another product, is another review.
    assert create(client_for(make_user()), product)["errors"] == []
    assert create(customer_client, make_product())["errors"] == []


def test_two_at_once_are_one_review(customer, product, monkeypatch):
    services.review_create(user=customer, product_id=product.pk, rating=5)
    # As if the second had checked before the first was written: the
    # database's constraint refuses it, with the same answer.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    with pytest.raises(ServiceError) as refused:
        services.review_create(user=customer, product_id=product.pk, rating=3)
    assert [(e.field, e.code) for e in refused.value.errors] == [("product_id", "UNIQUE")]
    assert Review.objects.filter(user=customer).count() == 1


@pytest.mark.parametrize("rating", [0, 6, -1, 2**31 - 1])
def test_a_rating_is_one_to_five_stars(customer_client, product, rating):
    payload = create(customer_client, product, rating=rating)
    assert problems(payload) == [("rating", "INVALID")]
    assert not Review.objects.exists()


def test_every_problem_at_once(customer_client, product):
    payload = create(customer_client, product, rating=9, title="t" * 256,
                     body="b" * (services.BODY_LIMIT + 1))
    assert problems(payload) == [("rating", "INVALID"), ("title", "INVALID"),
                                 ("body", "INVALID")]
    assert payload["errors"][1]["message"] == "At most 255 characters."
    assert not Review.objects.exists()


@pytest.mark.parametrize("case", ["unpublished", "deleted", "unknown", "another type"])
def test_a_product_the_customer_cannot_see_is_not_found(customer_client, case):
    product = make_product(is_published=case != "unpublished", deleted=case == "deleted")
    product_id = {"unknown": to_base64("Product", product.pk + 1000),
                  "another type": to_base64("Category", product.pk)}.get(
        case, gid("Product", product))
    document = contract.operations("storefront/orders.graphql", "ReviewCreate")
    payload = customer_client.execute(
        document, {"productId": product_id, "input": {"rating": 5}})["reviewCreate"]
    assert problems(payload) == [("productId", "NOT_FOUND")]


def test_anonymous_callers_sign_in_first(client, product):
    document = contract.operations("storefront/orders.graphql", "ReviewCreate")
    result = client.post(document, {"productId": gid("Product", product), "input": {"rating": 5}})
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert not Review.objects.exists()


# --- verifiedPurchase -----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "payment_status", "verified"), [
    ("PROCESSING", "PAID", True),
    ("DELIVERED", "PAID", True),
    ("SHIPPED", "PARTIALLY_REFUNDED", True),
    ("DELIVERED", "REFUNDED", False),  # the money went back
    ("CANCELLED", "REFUNDED", False),
    ("PENDING", "NOT_CHARGED", False),
    ("PENDING", "PENDING", False),
    ("PENDING", "FAILED", False),
    ("CANCELLED", "NOT_CHARGED", False),
])
def test_verified_when_the_customer_paid_for_the_product(customer, customer_client, product,
                                                         status, payment_status, verified):
    variant = product.variants.get()
    make_order(lines=[(variant, 1)], user=customer, status=status,
               payment_status=payment_status, allocate=False)
    assert create(customer_client, product)["review"]["verifiedPurchase"] is verified


def test_only_the_customers_own_orders_of_this_product_verify(customer, product):
    variant = product.variants.get()
    other = make_product()
    # Paid: by someone else; as a guest under the customer's email; for
    # another product.
    make_order(lines=[(variant, 1)], user=make_user(), payment_status="PAID",
               status="PROCESSING", allocate=False)
    make_order(lines=[(variant, 1)], email=customer.email, payment_status="PAID",
               status="PROCESSING", allocate=False)
    make_order(lines=[(make_variant(product=other), 1)], user=customer, payment_status="PAID",
               status="PROCESSING", allocate=False)
    review = services.review_create(user=customer, product_id=product.pk, rating=4)
    assert review.verified_purchase is False
    assert services.review_create(user=customer, product_id=other.pk, rating=4).verified_purchase


# --- Moderation -----------------------------------------------------------------------------


def set_hidden(client, review, is_hidden: bool) -> dict:
    data = client.execute(SET_HIDDEN, {"id": gid("Review", review), "isHidden": is_hidden})
    return data["reviewSetHidden"]


def test_a_hidden_review_leaves_the_page_and_the_rating(client, moderator, product,
                                                        django_capture_on_commit_callbacks):
    low = make_review(product=product, rating=1)
    make_review(product=product, rating=5)
    staff = client_for(moderator)
    rating = shown(client, product)["rating"]
    assert (rating["average"], rating["count"]) == (3.0, 2)

    # Committed, as a request's write is: the response cache hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        payload = set_hidden(staff, low, True)
    assert payload == {"review": {"id": gid("Review", low), "isHidden": True}, "errors": []}
    page = shown(client, product)
    assert (page["rating"]["average"], page["rating"]["count"]) == (5.0, 1)
    assert {"stars": 1, "count": 0} in page["rating"]["distribution"]
    assert page["reviews"]["totalCount"] == 1
    # Catalog staff still find it, hidden, through node(id:); customers do not.
    node = "query ($id: ID!) { node(id: $id) { ... on Review { isHidden } } }"
    assert staff.execute(node, {"id": gid("Review", low)})["node"] == {"isHidden": True}
    assert client.execute(node, {"id": gid("Review", low)})["node"] is None
    # Repeating changes nothing.
    assert set_hidden(staff, low, True)["errors"] == []

    with django_capture_on_commit_callbacks(execute=True):
        assert set_hidden(staff, low, False)["review"]["isHidden"] is False
    assert shown(client, product)["rating"]["average"] == 3.0


def test_what_the_customer_wrote_is_kept(moderator, product):
    review = make_review(product=product, title="Lovely", body="Really.")
    services.review_set_hidden(actor=moderator, review=review, is_hidden=True)
    review.refresh_from_db()
    assert (review.is_hidden, review.title, review.body) == (True, "Lovely", "Really.")


def test_only_catalog_staff_moderate(product):
    review = make_review(product=product)
    for user, code in [(make_user(), "FORBIDDEN"), (make_user(perms=[Perm.MANAGE_ORDERS]),
                                                     "FORBIDDEN")]:
        result = client_for(user).post(SET_HIDDEN, {"id": gid("Review", review),
                                                    "isHidden": True})
        assert error_codes(result) == [code]
    assert not Review.objects.get(pk=review.pk).is_hidden


@pytest.mark.parametrize("review_id", [to_base64("Review", 10**9), to_base64("Product", 1), "x"])
def test_an_unknown_review_is_not_found(moderator, review_id):
    payload = client_for(moderator).execute(SET_HIDDEN, {"id": review_id, "isHidden": True})
    assert problems(payload["reviewSetHidden"]) == [("id", "NOT_FOUND")]


def test_the_django_admin_moderates_through_review_set_hidden(admin_client, monkeypatch):
    from tests.test_catalog_django_admin import inline

    review = make_review(product=make_product(), title="Lovely")
    calls = []
    real = services.review_set_hidden
    monkeypatch.setattr(services, "review_set_hidden",
                        lambda **kwargs: calls.append(kwargs["is_hidden"]) or real(**kwargs))
    response = admin_client.get("/admin/catalog/review/")
    assert response.status_code == 200
    response = admin_client.post("/admin/catalog/review/", {
        **inline("form", [{"id": review.pk, "is_hidden": "on"}], initial=1), "_save": "Save"})
    assert response.status_code == 302
    assert Review.objects.get(pk=review.pk).is_hidden
    assert calls == [True, True]  # the dry run in clean(), then the write
    # What the customer wrote is not editable here.
    response = admin_client.post(f"/admin/catalog/review/{review.pk}/change/",
                                 {"is_hidden": "", "title": "Edited"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.is_hidden, review.title) == (False, "Lovely")
    assert admin_client.get("/admin/catalog/review/add/").status_code == 403
