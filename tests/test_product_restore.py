"""productRestore: a soft-deleted product comes back, through /graphql/ and
through the service."""

import pytest

from apps.catalog import services
from apps.catalog.models import Product
from apps.core.errors import ErrorCode, NotFound, ServiceError
from tests.conftest import WHO, Client, client_of, error_codes, problems
from tests.test_catalog_admin import gid, product

pytestmark = pytest.mark.django_db

RESTORE = """mutation($id: ID!) {
  productRestore(id: $id) { product { slug } errors { field code message } }
}"""

DELETE = """mutation($id: ID!) { productDelete(id: $id) { errors { code } } }"""

STOREFRONT = """query($search: String) {
  products(first: 10, filters: {search: $search}) { edges { node { slug } } }
}"""


def storefront_slugs(search: str | None = None) -> list[str]:
    data = Client().execute(STOREFRONT, {"search": search})
    return [edge["node"]["slug"] for edge in data["products"]["edges"]]


def test_restore_brings_a_deleted_product_back_to_the_storefront(
        db, staff_client, django_capture_on_commit_callbacks):
    item = product(name="Vetiver", is_published=True)
    product(name="Cedar", is_published=True)
    # Each write committed, as a request's is: the response cache hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.execute(DELETE, {"id": gid("Product", item.pk)})
    assert storefront_slugs() == ["cedar"] and storefront_slugs("vetiver") == []

    with django_capture_on_commit_callbacks(execute=True):
        payload = staff_client.execute(RESTORE, {"id": gid("Product", item.pk)})["productRestore"]
    assert payload == {"product": {"slug": "vetiver"}, "errors": []}
    assert Product.objects.get(pk=item.pk).deleted_at is None
    assert sorted(storefront_slugs()) == ["cedar", "vetiver"]
    assert storefront_slugs("vetiver") == ["vetiver"]

    # Live now: there is no deleted product with this ID.
    again = staff_client.execute(RESTORE, {"id": gid("Product", item.pk)})["productRestore"]
    assert (again["product"], problems(again)) == (None, [("id", "NOT_FOUND")])
    unknown = staff_client.execute(RESTORE, {"id": gid("Product", 987_654_321)})
    assert problems(unknown["productRestore"]) == [("id", "NOT_FOUND")]


def test_product_restore_service(db):
    item = product()
    with pytest.raises(NotFound):
        services.product_restore(actor=None, product=item)
    services.product_delete(actor=None, product=item)
    deleted_at = Product.objects.get(pk=item.pk).deleted_at
    assert deleted_at is not None
    restored = services.product_restore(actor=None, product=item)
    assert restored.deleted_at is None and Product.objects.get(pk=item.pk).deleted_at is None
    # The slug and SKU stayed taken while it was deleted.
    services.product_delete(actor=None, product=item)
    with pytest.raises(ServiceError) as caught:
        product(name="Other", slug=item.slug)
    assert caught.value.errors[0].code == ErrorCode.UNIQUE


@pytest.mark.parametrize("who, code", WHO)
def test_restore_needs_manage_products(db, who, code):
    client = client_of(who)
    item = product()
    services.product_delete(actor=None, product=item)
    result = client.post(RESTORE, {"id": gid("Product", item.pk)})
    assert error_codes(result) == [code] and result["data"] is None
    assert Product.objects.get(pk=item.pk).deleted_at is not None
