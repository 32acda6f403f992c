from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Sum

from apps.accounts.models import User
from apps.demo import images as demo_images
from apps.demo import seed as demo
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant, Review
from apps.inventory.models import Stock, StockMovement

pytestmark = pytest.mark.django_db


def seed(products=12, seed=7):
    call_command("seed_demo", products=products, seed=seed, verbosity=0)


def catalog_snapshot():
    return (
        list(Product.objects.order_by("slug").values_list(
            "slug", "name", "category__slug", "attributes", "is_published", "description")),
        list(ProductVariant.objects.order_by("sku").values_list(
            "sku", "product__slug", "name", "options", "price", "compare_at_price")),
        list(Stock.objects.order_by("variant__sku").values_list("variant__sku", "quantity_on_hand")),
        list(Review.objects.order_by("product__slug", "user__email").values_list(
            "product__slug", "user__email", "rating", "title", "verified_purchase")),
        list(ProductMedia.objects.order_by("image").values_list("image", "thumbnail", "alt")),
    )


def wipe_catalog():
    Product.objects.all().delete()


def test_same_seed_same_catalog_other_seed_another():
    seed(seed=7)
    first = catalog_snapshot()
    wipe_catalog()
    seed(seed=7)
    assert catalog_snapshot() == first
    wipe_catalog()
    seed(seed=8)
    assert catalog_snapshot()[1] != first[1]


def test_catalog_is_complete_and_consistent():
    seed(products=15)
    assert Product.objects.count() == 15
    leaves = Category.objects.filter(depth=3)
    assert leaves.exists() and not Category.objects.filter(depth__gt=3).exists()
    assert set(Product.objects.values_list("category__depth", flat=True)) == {3}

    for product in Product.objects.prefetch_related("variants", "media"):
        variants = list(product.variants.all())
        assert 1 <= len(variants) <= 5
        assert product.attributes and all(
            isinstance(values, list) and values for values in product.attributes.values()
        )
        for variant in variants:
            assert isinstance(variant.price, Decimal) and variant.price >= 0
            assert variant.options and {"name", "value"} <= set(variant.options[0])
            assert variant.compare_at_price is None or variant.compare_at_price > variant.price
        media = list(product.media.all())
        assert media and default_storage.exists(media[0].image.name)
        assert default_storage.exists(media[0].thumbnail.name)

    # Every variant has stock in the default warehouse, and the INITIAL
    # movements add up to what is on hand.
    stocks = Stock.objects.filter(warehouse__is_default=True)
    assert stocks.count() == ProductVariant.objects.count()
    on_hand = stocks.aggregate(total=Sum("quantity_on_hand"))["total"]
    moved = StockMovement.objects.filter(kind=StockMovement.Kind.INITIAL).aggregate(
        total=Sum("quantity_delta"))["total"]
    assert on_hand == moved > 0
    assert StockMovement.objects.exclude(kind=StockMovement.Kind.INITIAL).count() == 0

    assert Review.objects.exists()
    assert set(Review.objects.values_list("rating", flat=True)) <= {1, 2, 3, 4, 5}
    assert Review.objects.filter(verified_purchase=True).exists()
    assert User.objects.filter(is_superuser=True, is_staff=True, email=demo.ADMIN_EMAIL).exists()


def test_if_empty_leaves_a_filled_catalog_alone_and_refuses_without_it():
    seed(products=5)
    before = catalog_snapshot()
    call_command("seed_demo", products=5, seed=99, if_empty=True, verbosity=0)
    assert catalog_snapshot() == before
    with pytest.raises(CommandError, match="already has 5 products"):
        call_command("seed_demo", products=5, verbosity=0)


def test_if_empty_seeds_an_empty_catalog():
    call_command("seed_demo", products=3, if_empty=True, verbosity=0)
    assert Product.objects.count() == 3


def test_images_are_pngs_of_the_promised_sizes():
    from PIL import Image

    seed(products=2)
    media = ProductMedia.objects.first()
    with default_storage.open(media.image.name) as f:
        assert Image.open(f).size == (demo_images.IMAGE_SIZE, demo_images.IMAGE_SIZE)
    with default_storage.open(media.thumbnail.name) as f:
        assert Image.open(f).size == (demo_images.THUMBNAIL_SIZE, demo_images.THUMBNAIL_SIZE)


def test_shipping_zones_and_tax_rates_are_seeded_once():
    from apps.demo.shipping import RATES, ZONES, seed_shipping_and_tax
    from apps.shipping.models import ShippingMethod, ShippingZone
    from apps.taxes.models import TaxRate

    seed(products=3)
    assert ShippingZone.objects.count() == len(ZONES)
    assert ShippingMethod.objects.filter(zone__countries__country="US").count() == 2
    assert TaxRate.objects.get(country="US", country_area="CA").rate == Decimal("7.25")
    assert TaxRate.objects.count() == len(RATES)
    assert seed_shipping_and_tax() == (0, 0)
