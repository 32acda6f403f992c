"""plain_from_db (apps/core/from_db.py): a row becomes the instance
Django's from_db would make, without __init__, unless something would tell
the difference."""

import pytest
from django.db.models import Model
from django.db.models.signals import post_init

from apps.catalog.models import Category, Product, ProductMedia
from apps.core.from_db import _not_plain
from tests.test_catalog_queries import seed_catalog

pytestmark = pytest.mark.django_db


def _django(queryset):
    """The same rows through Django's own from_db."""
    ours = {model: model.__dict__["from_db"] for model in (Product, Category)}
    for model in ours:
        model.from_db = classmethod(Model.from_db.__func__)
    try:
        return list(queryset.all())
    finally:
        for model, from_db in ours.items():
            model.from_db = from_db


def _state(instance) -> dict:
    values = {k: v for k, v in vars(instance).items() if k != "_state"}
    return {"values": values, "adding": instance._state.adding, "db": instance._state.db,
            "deferred": instance.get_deferred_fields()}


@pytest.mark.parametrize("only", [None, ("name", "slug", "category_id")])
def test_products_and_categories_are_the_instances_django_makes(only):
    seed_catalog(3)
    products = Product.objects.select_related("category").order_by("pk")
    if only:
        products = products.only(*only, "category__name")
    ours = list(products.all())
    theirs = _django(products)
    assert [_state(p) for p in ours] == [_state(p) for p in theirs]
    assert [_state(p.category) for p in ours if p.category_id] == [
        _state(p.category) for p in theirs if p.category_id]
    assert all(not p._state.adding for p in ours)
    if only:
        product = ours[0]
        assert "description" in product.get_deferred_fields()
        assert product.description == Product.objects.get(pk=product.pk).description  # loads
    changed = ours[0]
    changed.name = "Renamed"
    changed.save(update_fields=["name"])
    assert Product.objects.get(pk=changed.pk).name == "Renamed"


def test_a_listener_of_post_init_gets_its_call():
    seed_catalog(1)
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(listener, sender=Category)
    try:
        categories = list(Category.objects.order_by("pk"))
    finally:
        post_init.disconnect(listener, sender=Category)
    assert seen == [category.pk for category in categories] and seen


def test_a_field_with_a_setter_of_its_own_is_not_plain():
    assert _not_plain(Product) == frozenset() and _not_plain(Category) == frozenset()
    assert {"image", "thumbnail"} <= _not_plain(ProductMedia)
