"""What catalog, inventory and review writes publish for what storefront pages
show (ProductCreated, ProductChanged with its part, CategoryChanged,
StockChanged): the right event with the right ids, each once per write, in
the write's transaction, so that a write rolled back publishes nothing."""

import dataclasses
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from apps.catalog import services
from apps.catalog.csv_io import ProductImportError, import_products
from apps.catalog.models import Category, Product
from apps.core import events
from apps.core.errors import ServiceError
from apps.core.models import OutboxEvent
from apps.inventory import services as stock
from apps.reviews import services as reviews
from tests.conftest import client_for, make_user
from tests.factories import make_media, make_product, make_review, make_variant
from tests.test_catalog_admin import (
    CATEGORY_UPDATE,
    PRODUCT_UPDATE,
    STOCK_ADJUST,
    VARIANT_UPDATE,
    gid,
    image_bytes,
)
from tests.test_catalog_django_admin import VARIANT, inline, product_form
from tests.test_csv import row, to_csv
from tests.test_reviews import SET_HIDDEN

pytestmark = pytest.mark.django_db

# The events these tests are about; the others (moves, low stock) have theirs.
TOLD = ("ProductCreated", "ProductChanged", "CategoryChanged", "StockChanged")


def told(*types: str) -> list[tuple]:
    """The events of TOLD (or of `types`) published so far, each as its type
    and its fields' values, sorted; then forgotten, for the next write."""
    rows = OutboxEvent.objects.filter(type__in=types or TOLD)
    found = sorted((row.type, *dataclasses.astuple(events.event_of(row))) for row in rows)
    OutboxEvent.objects.all().delete()
    return found


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG"))


# --- Products and variants ------------------------------------------------------------------


def test_product_create_tells_of_the_product_not_of_its_parts():
    actor = make_user()
    item = services.product_create(actor=actor, name="Neroli", is_published=True, variants=[
        {"sku": "NE-1", "price": Decimal("9"), "stock": 4},
        {"sku": "NE-2", "price": Decimal("19"), "stock": 2}])
    # No ProductChanged for its variants, no StockChanged for their first stock.
    assert told() == [("ProductCreated", item.pk, actor.pk)]


def test_product_update_tells_once_and_a_move_alone_tells_by_its_own_event():
    item = make_product(is_published=False)
    services.product_update(actor=None, product=item, name="New name", seo_title="New",
                            attributes={"Notes": ["rose"]}, is_published=True)
    assert told("ProductChanged", "ProductPublished") == [
        ("ProductChanged", item.pk, "product", None), ("ProductPublished", item.pk, None)]

    services.product_update(actor=None, product=item, is_published=False)
    assert told("ProductChanged", "ProductUnpublished") == [("ProductUnpublished", item.pk, None)]

    category = Category.objects.add_root({"name": "Oils", "slug": "oils"})
    services.product_update(actor=None, product=item, category=category)
    assert told() == [("ProductChanged", item.pk, "product", None)]


def test_variant_writes_tell_of_the_products_variants():
    item = make_product()
    made = services.variant_create(actor=None, product=item, sku="V-1", price=Decimal("10"),
                                   stock=3)
    assert told() == [("ProductChanged", item.pk, "variants", None)]
    services.variant_update(actor=None, variant=made, price=Decimal("8"), name="Small")
    assert told("ProductChanged", "VariantPriceDropped") == [
        ("ProductChanged", item.pk, "variants", None),
        ("VariantPriceDropped", made.pk, "10.00", "8")]


def test_through_graphql_the_event_names_the_staff_member(staff, staff_client):
    item = make_product()
    variant = make_variant(product=item, stock=5)
    data = staff_client.execute(PRODUCT_UPDATE, {"id": gid("Product", item.pk),
                                                 "input": {"name": "Renamed"}})
    assert data["productUpdate"]["errors"] == []
    assert told() == [("ProductChanged", item.pk, "product", staff.pk)]
    data = staff_client.execute(VARIANT_UPDATE, {"id": gid("ProductVariant", variant.pk),
                                                 "input": {"price": "12.00"}})
    assert data["productVariantUpdate"]["errors"] == []
    assert told() == [("ProductChanged", item.pk, "variants", staff.pk)]


def test_a_refused_or_rolled_back_write_tells_nothing(customer):
    item = make_product()
    variant = make_variant(product=item, sku="TAKEN")
    with pytest.raises(ServiceError):
        services.variant_create(actor=None, product=item, sku="TAKEN", price=Decimal("1"))
    with pytest.raises(ServiceError):
        services.product_update(actor=None, product=item, name=" ")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.product_create(actor=None, name="Never", variants=[
            {"sku": "NEW-1", "price": Decimal("1"), "stock": 2}])
        services.product_update(actor=None, product=item, name="Never")
        services.variant_update(actor=None, variant=variant, price=Decimal("1"))
        services.media_create(actor=None, product=item, image=png())
        services.category_create(actor=None, name="Never")
        stock.stock_adjust(actor=None, variant=variant, delta=3, reason="delivery")
        reviews.review_create(user=customer, product_id=item.pk, rating=5)
        assert len(told()) == 7  # published, and then rolled back with the writes
        raise RuntimeError
    assert OutboxEvent.objects.count() == 0


# --- Media ----------------------------------------------------------------------------------


def test_media_writes_tell_of_the_products_media():
    item = make_product()
    first = make_media(product=item, sort_order=0)
    made = services.media_create(actor=None, product=item, image=png(), alt="Front")
    assert told() == [("ProductChanged", item.pk, "media", None)]
    services.media_update(actor=None, media=made, alt="Back")
    services.media_update(actor=None, media=made, position=0)
    assert told() == [("ProductChanged", item.pk, "media", None)] * 2
    services.media_delete(actor=None, media=first)
    assert told() == [("ProductChanged", item.pk, "media", None)]


# --- Categories -----------------------------------------------------------------------------


def test_category_writes_tell_of_each_category():
    actor = make_user()
    top = services.category_create(actor=actor, name="Perfume")
    assert told() == [("CategoryChanged", top.pk, actor.pk)]
    child = services.category_create(actor=None, name="Men", parent=top, position=0)
    grandchild = services.category_create(actor=None, name="Oud", parent=child)
    other = services.category_create(actor=None, name="Soap")
    told()
    services.category_update(actor=None, category=child, name="Men's")
    assert told() == [("CategoryChanged", child.pk, None)]
    services.category_update(actor=None, category=child, parent=other, position=0)
    assert told() == [("CategoryChanged", child.pk, None)]
    # Deleting a subtree tells of each category in it.
    services.category_delete(actor=None, category=child)
    assert told() == sorted([("CategoryChanged", child.pk, None),
                             ("CategoryChanged", grandchild.pk, None)])


def test_a_refused_category_write_tells_nothing(staff_client):
    top = services.category_create(actor=None, name="Perfume")
    child = services.category_create(actor=None, name="Men", parent=top)
    make_product(category=child)
    told()
    cycle = staff_client.execute(CATEGORY_UPDATE, {"id": gid("Category", top.pk),
                                                   "input": {"parentId": gid("Category",
                                                                             child.pk)}})
    assert cycle["categoryUpdate"]["errors"][0]["code"] == "INVALID"
    with pytest.raises(ServiceError):
        services.category_delete(actor=None, category=top)  # it still sells something
    assert OutboxEvent.objects.count() == 0


# --- Stock ----------------------------------------------------------------------------------


def test_each_stock_change_tells_the_availability_before_and_after(staff, staff_client):
    item = make_product()
    variant = make_variant(product=item, stock=5, low_stock_threshold=2)
    data = staff_client.execute(STOCK_ADJUST, {"variantId": gid("ProductVariant", variant.pk),
                                               "delta": -5, "reason": "broken"})
    assert data["stockAdjust"]["errors"] == []
    assert told() == [("StockChanged", variant.pk, item.pk, 5, 0)]

    stock.stock_adjust(actor=None, variant=variant, delta=4, reason="delivery")
    stock.stock_allocate(variant=variant, quantity=3)
    assert told() == sorted([("StockChanged", variant.pk, item.pk, 0, 4),
                             ("StockChanged", variant.pk, item.pk, 4, 1)])
    # Shipping what was allocated leaves the availability as it was.
    stock.stock_fulfil(variant=variant, quantity=3)
    assert told() == []


def test_a_stock_change_publishes_its_events_in_one_insert():
    variant = make_variant(product=make_product(), stock=0, low_stock_threshold=3)
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        stock.stock_adjust(actor=None, variant=variant, delta=2, reason="delivery")
    outbox = OutboxEvent._meta.db_table
    inserts = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{outbox}"')]
    assert len(inserts) == 1
    assert sorted(OutboxEvent.objects.values_list("type", flat=True)) == [
        "StockChanged", "VariantBackInStock"]


def test_a_checkout_tells_of_each_variant_it_takes_stock_of():
    a = make_variant(product=make_product(), stock=3)
    b = make_variant(product=a.product, stock=1)
    stock.stock_allocate_many(lines=[(a, 2), (b, 1), (a, 1)])
    assert told() == sorted([("StockChanged", a.pk, a.product_id, 3, 0),
                             ("StockChanged", b.pk, b.product_id, 1, 0)])


# --- Reviews --------------------------------------------------------------------------------


def test_reviews_tell_of_their_products_rating(customer, staff):
    item = make_product()
    review = reviews.review_create(user=customer, product_id=item.pk, rating=4)
    assert told() == [("ProductChanged", item.pk, "reviews", customer.pk)]
    hidden = client_for(staff).execute(SET_HIDDEN, {"id": gid("Review", review.pk),
                                                    "isHidden": True})
    assert hidden["reviewSetHidden"]["errors"] == []
    assert told() == [("ProductChanged", item.pk, "reviews", staff.pk)]
    # Hiding it again changes nothing, and tells of nothing.
    reviews.review_set_hidden(actor=staff, review=review, is_hidden=True)
    assert told() == []
    reviews.review_set_hidden(actor=None, review=make_review(product=item, is_hidden=True),
                              is_hidden=False)
    assert told() == [("ProductChanged", item.pk, "reviews", None)]


def test_a_second_review_of_one_product_tells_nothing(customer):
    item = make_product()
    reviews.review_create(user=customer, product_id=item.pk, rating=4)
    told()
    with pytest.raises(ServiceError):
        reviews.review_create(user=customer, product_id=item.pk, rating=2)
    assert OutboxEvent.objects.count() == 0


# --- Writes made of many: the CSV import, the Django admin ---------------------------------


def run_import(rows: list[dict], **kwargs):
    return import_products(actor=None, file=io.StringIO(to_csv(rows)), **kwargs)


def test_an_import_tells_once_per_product_and_part():
    Category.objects.add_root({"name": "Oils", "slug": "oils"})
    run_import([row(slug="rose", sku="RO-1"), row(slug="rose", sku="RO-2"),
                row(slug="jasmine", sku="JA-1", stock="")])
    rose, jasmine = (Product.objects.get(slug=slug) for slug in ("rose", "jasmine"))
    ro1, ro2 = rose.variants.order_by("sku")
    # New products: their creation tells of their variants too; each stock
    # given is a change of a new variant's availability.
    assert told() == sorted([
        ("ProductCreated", rose.pk, None), ("ProductCreated", jasmine.pk, None),
        ("StockChanged", ro1.pk, rose.pk, 0, 7), ("StockChanged", ro2.pk, rose.pk, 0, 7)])

    result = run_import([row(slug="rose", sku="RO-1", name="Rose!", price="13.00"),
                         row(slug="rose", sku="RO-2", name="Rose!", price="14.00", stock="9"),
                         row(slug="rose", sku="RO-3", name="Rose!"),
                         row(slug="jasmine", sku="JA-1", stock="")])
    assert (result.products_updated, result.variants_updated, result.variants_created) == (
        1, 2, 1)
    ro3 = rose.variants.get(sku="RO-3")
    assert told() == sorted([
        ("ProductChanged", rose.pk, "product", None),
        ("ProductChanged", rose.pk, "variants", None),
        ("StockChanged", ro2.pk, rose.pk, 7, 9), ("StockChanged", ro3.pk, rose.pk, 0, 7)])


def test_a_dry_or_failed_import_tells_nothing():
    Category.objects.add_root({"name": "Oils", "slug": "oils"})
    run_import([row(slug="rose", sku="RO-1")], dry_run=True)
    with pytest.raises(ProductImportError):
        run_import([row(slug="rose", sku="RO-1"), row(slug="bad", sku="BA-1", price="-1")])
    assert OutboxEvent.objects.count() == 0


def test_a_product_saved_in_the_admin_tells_of_each_part_once(admin_client):
    product = make_product(slug="vetiver")
    one = make_variant(product=product, sku="VET-1")
    two = make_variant(product=product, sku="VET-2")
    data = {**product_form(name="Vetiver", slug="vetiver", is_published="on"),
            **inline("variants", [
                {**VARIANT, "id": one.pk, "product": product.pk, "sku": "VET-1", "price": "30"},
                {**VARIANT, "id": two.pk, "product": product.pk, "sku": "VET-2", "price": "31"}],
                initial=2),
            **inline("media", [{"alt": "a", "image": png("a.png")},
                               {"alt": "b", "image": png("b.png")}])}
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    admin = response.wsgi_request.user.pk
    assert told() == [("ProductChanged", product.pk, "media", admin),
                      ("ProductChanged", product.pk, "product", admin),
                      ("ProductChanged", product.pk, "variants", admin)]
