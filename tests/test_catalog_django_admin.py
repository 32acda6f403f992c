"""The Django admin writes through the catalog services: the same checks and
messages as the API, and what the services do besides (sanitising, stamping
the first publication, starting stock, thumbnails, the search document)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.catalog.models import Category, Product, ProductMedia, ProductVariant
from apps.inventory.models import Stock
from tests.factories import make_category, make_media, make_product, make_variant
from tests.test_catalog_admin import image_bytes

pytestmark = pytest.mark.django_db


def inline(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def product_form(**fields) -> dict:
    return {"name": "Rose oil", "slug": "rose-oil", "category": "", "description": "",
            "seo_title": "", "seo_description": "", "attributes": "{}", **fields}


VARIANT = {"sku": "RO-1", "name": "", "price": "24.50", "compare_at_price": "",
           "low_stock_threshold": "5", "options": "[]", "weight_grams": ""}


def test_adding_a_product_goes_through_product_create(admin_client):
    data = {**product_form(is_published="on", description="<p>Hi</p><script>x</script>"),
            **inline("variants", [VARIANT]), **inline("media", [])}
    response = admin_client.post("/admin/catalog/product/add/", data)
    assert response.status_code == 302, response.context["errors"]
    product = Product.objects.get(slug="rose-oil")
    assert product.description == "<p>Hi</p>" and product.published_at is not None
    variant = ProductVariant.objects.get(product=product)
    assert (variant.sku, str(variant.price)) == ("RO-1", "24.50")
    # variant_create gave it its (empty) stock row.
    assert Stock.objects.filter(variant=variant, quantity_on_hand=0).exists()


def test_the_services_refusals_show_on_the_form_and_nothing_is_written(admin_client):
    make_product(slug="taken")
    data = {**product_form(slug="taken", attributes='[{"name": ""}]'),
            **inline("variants", [{**VARIANT, "price": "-1"}]), **inline("media", [])}
    response = admin_client.post("/admin/catalog/product/add/", data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["slug"] == ["The slug 'taken' is taken."]
    assert form.errors["attributes"] == ["This field is required."]
    (variant_errors,) = response.context["inline_admin_formsets"][0].formset.errors
    assert variant_errors == {"price": ["Must not be negative."]}
    assert Product.objects.count() == 1 and not ProductVariant.objects.exists()


def test_changing_a_product_and_its_rows(admin_client):
    product = make_product(slug="vetiver", is_published=False)
    variant = make_variant(product=product, sku="VET-1")
    old = make_media(product=product, alt="old")
    data = {**product_form(name="Vetiver", slug="vetiver", is_published="on"),
            **inline("variants", [{**VARIANT, "id": variant.pk, "product": product.pk,
                                   "sku": "VET-1", "price": "30.00"}], initial=1),
            **inline("media", [{"id": old.pk, "product": product.pk, "alt": "old", "DELETE": "on"},
                               {"alt": "new", "image": SimpleUploadedFile(
                                   "new.png", image_bytes("PNG"))}], initial=1)}
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    product.refresh_from_db()
    variant.refresh_from_db()
    assert product.published_at is not None and str(variant.price) == "30.00"
    (image,) = ProductMedia.objects.filter(product=product)
    assert image.alt == "new" and image.thumbnail  # media_create made the rendition


def test_a_deleted_product_takes_no_edits_in_the_admin_either(admin_client):
    product = make_product(slug="gone", deleted=True)
    data = {**product_form(name="Back", slug="gone"), **inline("variants", []),
            **inline("media", [])}
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == ["This product was deleted."]
    assert Product.objects.get(pk=product.pk).name != "Back"


def test_categories_are_placed_through_the_category_services(admin_client):
    top = make_category(name="Oils", slug="oils")
    make_category(name="Roses", slug="roses", parent=top)
    response = admin_client.post("/admin/catalog/category/add/", {
        "name": "Amber", "slug": "amber", "description": "", "parent": top.pk, "position": 0})
    assert response.status_code == 302, response.context["errors"]
    top.refresh_from_db()
    assert [c.slug for c in Category.objects.get_children(top)] == ["amber", "roses"]
    # A cycle is refused as category_update refuses it.
    response = admin_client.post(f"/admin/catalog/category/{top.pk}/change/", {
        "name": "Oils", "slug": "oils", "description": "",
        "parent": Category.objects.get(slug="amber").pk, "position": ""})
    assert response.context["adminform"].form.non_field_errors() == [
        "A category cannot move under itself or its descendants."]
    # Drag and drop: before a sibling, or into a category.
    amber, roses = Category.objects.get(slug="amber"), Category.objects.get(slug="roses")
    assert admin_client.post("/admin/catalog/category/move/", {
        "node": roses.pk, "target": amber.pk, "relation": "sibling"}).status_code == 200
    top.refresh_from_db()
    assert [c.slug for c in Category.objects.get_children(top)] == ["roses", "amber"]
    assert admin_client.post("/admin/catalog/category/move/", {
        "node": top.pk, "target": roses.pk, "relation": "child"}).status_code == 400


def test_media_admin_deletes_through_media_delete(admin_client, django_capture_on_commit_callbacks):
    product = make_product()
    first, second = make_media(product=product, alt="a"), make_media(product=product, alt="b",
                                                                     sort_order=1)
    storage, name = first.image.storage, first.image.name
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/catalog/productmedia/{first.pk}/delete/",
                                     {"post": "yes"})
    assert response.status_code == 302
    assert not storage.exists(name)
    second.refresh_from_db()
    assert second.sort_order == 0  # positions stay 0, 1, 2...


def test_warehouses_are_written_through_the_inventory_services(admin_client):
    from apps.inventory.models import Warehouse

    main = Warehouse.objects.get(is_default=True)
    response = admin_client.post("/admin/inventory/warehouse/add/",
                                 {"name": "Annex", "slug": main.slug, "is_default": "on"})
    assert response.context["adminform"].form.errors == {
        "slug": [f"The slug {main.slug!r} is taken."]}
    response = admin_client.post("/admin/inventory/warehouse/add/",
                                 {"name": "Annex", "slug": "annex", "is_default": "on"})
    assert response.status_code == 302
    # The default moved: still exactly one.
    assert list(Warehouse.objects.filter(is_default=True).values_list("slug", flat=True)) == [
        "annex"]
    annex = Warehouse.objects.get(slug="annex")
    response = admin_client.post(f"/admin/inventory/warehouse/{annex.pk}/change/",
                                 {"name": "Annex", "slug": "annex"})
    assert response.context["adminform"].form.errors["is_default"][0].startswith(
        "Make another warehouse the default")
