import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import TestCase
from django.utils import timezone

from apps.accounts.models import User
from apps.demo import images as demo_images
from apps.demo import orders as demo_orders
from apps.demo import seed as demo
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant, Review
from apps.checkout.models import Cart
from apps.discounts.models import CouponUse
from apps.inventory.models import Stock, StockMovement
from apps.orders.models import Order, OrderLine, Payment, Refund
from apps.reviews.selectors import bought_lines, has_bought
from tests import contract
from apps.accounts.permissions import Perm
from apps.demo.shipping import ZONES
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def seed(products=12, seed=7, orders=0):
    # No orders unless a test is about them: they cost a few seconds.
    call_command("seed_demo", products=products, seed=seed, orders=orders, verbosity=0)


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


def orders_snapshot():
    """The orders as a shop reads them. Numbers are ids plus an offset, so a
    second seed in one database numbers on from where the first stopped:
    they are compared from the first one (on a fresh database they are the
    same numbers)."""
    rows = list(Order.objects.order_by("number").values_list(
        "number", "email", "status", "payment_status", "subtotal", "discount",
        "shipping_price", "tax", "total", "total_refunded", "coupon_code", "shipping_country",
        "shipping_country_area", "shipping_method_name", "tracking_number"))
    first = int(rows[0][0]) if rows else 0
    lines = list(OrderLine.objects.order_by("order__number", "sku").values_list(
        "order__email", "sku", "quantity", "unit_price", "discount", "tax"))
    return [(int(number) - first, *rest) for number, *rest in rows], lines


def wipe_catalog():
    """What a seed made but the customers and the shop's set-up (zones,
    rates, coupons), so that the next seed starts where the first did."""
    Refund.objects.all().delete()
    Payment.objects.all().delete()
    CouponUse.objects.all().delete()
    Order.objects.all().delete()
    Cart.objects.all().delete()
    Product.objects.all().delete()


def test_same_seed_same_catalog_and_orders_other_seed_others():
    seed(seed=7, orders=10)
    first, first_orders = catalog_snapshot(), orders_snapshot()
    assert first_orders[0]
    wipe_catalog()
    seed(seed=7, orders=10)
    assert catalog_snapshot() == first
    assert orders_snapshot() == first_orders
    wipe_catalog()
    seed(seed=8, orders=10)
    assert catalog_snapshot()[1] != first[1]
    assert orders_snapshot() != first_orders


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

    # Every variant has stock in the default warehouse, and the movements
    # (INITIAL, and the orders' since) add up to what is on hand.
    stocks = Stock.objects.filter(warehouse__is_default=True)
    assert stocks.count() == ProductVariant.objects.count()
    on_hand = stocks.aggregate(total=Sum("quantity_on_hand"))["total"]
    moved = StockMovement.objects.aggregate(total=Sum("quantity_delta"))["total"]
    assert on_hand == moved > 0
    # Every other movement is an order's (see the order tests).
    assert set(StockMovement.objects.exclude(kind=StockMovement.Kind.INITIAL)
               .values_list("reference", flat=True)) <= {f"order:{n}" for n in
                                                         Order.objects.values_list("number",
                                                                                   flat=True)}

    assert Review.objects.exists()
    assert set(Review.objects.values_list("rating", flat=True)) <= {1, 2, 3, 4, 5}
    # Verified only by an order (see DemoOrders), and there are none.
    assert not Review.objects.filter(verified_purchase=True).exists()
    assert User.objects.filter(is_superuser=True, is_staff=True, email=demo.ADMIN_EMAIL).exists()


def test_if_empty_leaves_a_filled_catalog_alone_and_refuses_without_it():
    seed(products=5)
    before = catalog_snapshot()
    call_command("seed_demo", products=5, seed=99, if_empty=True, verbosity=0)
    assert catalog_snapshot() == before
    with pytest.raises(CommandError, match="already has 5 products"):
        call_command("seed_demo", products=5, verbosity=0)


def test_if_empty_seeds_an_empty_catalog():
    call_command("seed_demo", products=3, if_empty=True, orders=0, verbosity=0)
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


# --- Demo orders ------------------------------------------------------------------------------


class DemoOrders(TestCase):
    """One seeded shop, read by every test of the class (each in its own
    savepoint): seeding costs seconds, reading it milliseconds."""

    @classmethod
    def setUpTestData(cls):
        call_command("seed_demo", products=30, seed=3, orders=30, verbosity=0)

    def test_they_take_every_path_of_the_order_desk(self):
        customers = set(User.objects.filter(is_staff=False).values_list("pk", flat=True))
        assert Order.objects.count() == 30
        # Every one a demo customer's, placed by checking out a cart.
        assert set(Order.objects.values_list("user", flat=True)) <= customers
        assert Cart.objects.filter(state="COMPLETED").count() == 30
        assert set(Order.objects.values_list("status", flat=True)) == {
            "PROCESSING", "SHIPPED", "DELIVERED", "CANCELLED"}
        assert set(Order.objects.values_list("payment_status", flat=True)) == {
            "PAID", "PARTIALLY_REFUNDED", "REFUNDED"}
        assert not Order.objects.filter(status="CANCELLED").exclude(
            payment_status="REFUNDED").exists()
        assert not Order.objects.filter(status__in=["SHIPPED", "DELIVERED"],
                                        tracking_number="").exists()
        assert Order.objects.exclude(coupon_code="").exists()
        assert Order.objects.filter(shipping_method_name="Express").exists()
        countries = set(Order.objects.values_list("shipping_country", flat=True))
        assert {"US", "GB", "DE"} <= countries <= {c for _, cs, _ in ZONES for c in cs}
        assert "" not in set(Order.objects.filter(shipping_country="US")
                             .values_list("shipping_country_area", flat=True))

    def test_their_totals_payments_and_refunds_add_up(self):
        for order in Order.objects.prefetch_related("lines", "payments__refunds"):
            lines = list(order.lines.all())
            assert order.subtotal == sum(line.unit_price * line.quantity for line in lines)
            assert order.discount == sum(line.discount for line in lines)
            assert order.tax >= sum(line.tax for line in lines)  # and the shipping's
            assert order.total == (order.subtotal - order.discount + order.shipping_price
                                   + order.tax)
            for line in lines:
                assert line.total == line.unit_price * line.quantity - line.discount
            (payment,) = order.payments.all()
            assert (payment.gateway, payment.status, payment.amount) == (
                "dummy", "SUCCEEDED", order.total)
            refunded = sum(refund.amount for refund in payment.refunds.all())
            assert order.total_refunded == refunded
            assert order.payment_status == (
                "PAID" if refunded == 0 else "REFUNDED" if refunded == order.total
                else "PARTIALLY_REFUNDED")
        with_coupon = Order.objects.exclude(coupon_code="")
        assert all(order.discount > 0 or order.shipping_price == 0 for order in with_coupon)
        # A cancelled order gave its coupon's use back.
        assert CouponUse.objects.filter(released_at__isnull=True).count() == (
            with_coupon.exclude(status="CANCELLED").count())

    def test_stock_follows_them(self):
        initial = dict(StockMovement.objects.filter(kind=StockMovement.Kind.INITIAL)
                       .values_list("stock__variant__sku", "quantity_delta"))
        held: dict[str, int] = {}
        shipped: dict[str, int] = {}
        for sku, quantity, status in OrderLine.objects.values_list("sku", "quantity",
                                                                   "order__status"):
            if status in ("PENDING", "PROCESSING"):
                held[sku] = held.get(sku, 0) + quantity
            elif status in ("SHIPPED", "DELIVERED"):
                shipped[sku] = shipped.get(sku, 0) + quantity
        assert held and shipped
        for stock in Stock.objects.select_related("variant"):
            sku = stock.variant.sku
            assert stock.quantity_allocated == held.get(sku, 0), sku
            assert stock.quantity_on_hand == initial[sku] - shipped.get(sku, 0), sku
        totals = StockMovement.objects.aggregate(on_hand=Sum("quantity_delta"),
                                                 allocated=Sum("allocated_delta"))
        assert totals == Stock.objects.aggregate(on_hand=Sum("quantity_on_hand"),
                                                 allocated=Sum("quantity_allocated"))

    def test_the_sales_report_and_the_desk_have_sixty_days_to_show(self):
        staff = client_for(make_user(perms=list(Perm)))
        today = timezone.localdate()
        report = staff.execute(
            contract.operations("admin/orders.graphql", "SalesReport"),
            {"dateFrom": str(today - timedelta(days=59)), "dateTo": str(today)},
        )["salesReport"]
        counted = Order.objects.exclude(status="CANCELLED")
        assert report["orderCount"] == counted.count() > 0
        assert Decimal(report["revenue"]["amount"]) == sum(
            order.total - order.total_refunded for order in counted) > 0
        assert report["topProducts"]
        days = [day["date"] for day in report["daily"] if day["orderCount"]]
        assert len(days) >= 10  # spread over the period, not all today
        assert days[0] < str(today - timedelta(days=30)) and days[-1] > str(
            today - timedelta(days=7))

        desk = staff.execute(contract.operations("admin/orders.graphql", "AdminOrders"),
                             {"first": 5})["orders"]
        assert desk["totalCount"] == 30
        # Newest first, by the back-dated times, which number order follows.
        numbers = [edge["node"]["number"] for edge in desk["edges"]]
        assert numbers == list(Order.objects.order_by("-created_at")
                               .values_list("number", flat=True)[:5])
        assert numbers == sorted(numbers, key=int, reverse=True)
        delivered = staff.execute(contract.operations("admin/orders.graphql", "AdminOrders"),
                                  {"first": 5, "filters": {"status": "DELIVERED"}})["orders"]
        assert delivered["totalCount"] == Order.objects.filter(status="DELIVERED").count() > 0

    def test_a_history_reads_in_time_order(self):
        order = Order.objects.filter(payment_status="PARTIALLY_REFUNDED").first()
        detail = client_for(order.user).execute(
            contract.operations("storefront/orders.graphql", "OrderDetail"),
            {"number": order.number})["order"]
        events = detail["events"]
        assert [event["type"] for event in events] == [
            "PLACED", "PAID", "FULFILLED", "DELIVERED", "REFUNDED"]
        moments = [datetime.fromisoformat(event["createdAt"]) for event in events]
        assert moments[0] == moments[1] < moments[2] < moments[3] < moments[4]
        assert datetime.fromisoformat(detail["createdAt"]) == moments[0]

    def test_everything_they_wrote_is_dated_within_sixty_days(self):
        now = timezone.now()
        for order in Order.objects.prefetch_related("events", "payments__refunds"):
            stamps = [event.created_at for event in order.events.all()]
            assert now - timedelta(days=60) < order.created_at == stamps[0]
            assert stamps == sorted(stamps) and stamps[-1] == order.updated_at < now
            payment = order.payments.get()
            assert payment.created_at == order.created_at
            assert all(refund.created_at == stamps[-1] for refund in payment.refunds.all())
        placed = dict(Order.objects.values_list("number", "created_at"))
        for movement in StockMovement.objects.exclude(kind=StockMovement.Kind.INITIAL):
            moment = placed[movement.reference.removeprefix("order:")]
            assert movement.created_at >= moment
            assert (movement.created_at == moment) == (movement.kind == "allocation")
        for cart in Cart.objects.all():
            assert cart.created_at < cart.updated_at == Order.objects.get(
                cart_token=cart.token).created_at
        for use in CouponUse.objects.all():
            assert use.used_at == Order.objects.get(pk=use.order_id).created_at

    def test_verified_reviews_are_those_of_paid_orders(self):
        reviews = list(Review.objects.select_related("user", "product"))
        for review in reviews:
            assert review.verified_purchase == has_bought(user=review.user,
                                                          product=review.product)
        assert 0 < sum(review.verified_purchase for review in reviews) < len(reviews)
        # A refunded order is no proof: a buyer who cancelled or returned it
        # is not verified.
        refunded = set(OrderLine.objects.filter(order__payment_status="REFUNDED")
                       .values_list("order__user", "product"))
        unproven = refunded - set(bought_lines().values_list("order__user", "product"))
        assert unproven
        for user, product in unproven:
            assert not Review.objects.filter(user=user, product=product,
                                             verified_purchase=True).exists()


def test_the_orders_part_runs_once_and_orders_can_be_asked_for_or_left_out():
    seed(products=10, seed=5, orders=None)
    before = Order.objects.count()
    assert before == 20  # two per customer
    customers = list(User.objects.filter(is_staff=False))
    products = list(Product.objects.values_list("pk", flat=True))
    assert demo_orders.seed_orders(random.Random(5), customers=customers,
                                   product_ids=products, count=5) == (
        0, "the demo customers have orders already")
    call_command("seed_demo", products=5, if_empty=True, verbosity=0)
    assert Order.objects.count() == before

    wipe_catalog()
    call_command("seed_demo", products=10, seed=5, orders=0, verbosity=0)
    assert not Order.objects.exists()
    assert not Review.objects.filter(verified_purchase=True).exists()

    wipe_catalog()
    call_command("seed_demo", products=10, seed=5, orders=3, verbosity=0)
    assert Order.objects.count() == 3
    with pytest.raises(CommandError, match="--orders must be 0 or more"):
        call_command("seed_demo", orders=-1, verbosity=0)


def test_no_orders_without_the_dummy_gateway(settings):
    settings.PAYMENT_GATEWAYS = []
    result = demo.seed_demo(products=5, seed=5)
    assert (result.orders, result.orders_skipped) == (
        0, 'the "dummy" payment gateway is not enabled (PAYMENT_GATEWAYS)')
    assert not Order.objects.exists()


def test_bulk_rows_are_those_the_services_would_write():
    from django.db import connection

    from apps.catalog.services import refresh_sort_keys

    seed(products=40)
    keys = list(Product.objects.order_by("pk").values_list("pk", "min_price", "average_rating"))
    assert all(price is not None for _, price, _ in keys)
    assert any(rating is not None for _, _, rating in keys)
    refresh_sort_keys(product_ids=[pk for pk, _, _ in keys])
    assert list(Product.objects.order_by("pk").values_list(
        "pk", "min_price", "average_rating")) == keys
    if connection.vendor == "postgresql":
        assert not Product.objects.filter(search_vector__isnull=True).exists()
    # Every variant stocked once, every stock row with its INITIAL movement.
    assert Stock.objects.count() == ProductVariant.objects.count()
    assert StockMovement.objects.filter(kind=StockMovement.Kind.INITIAL).count() == Stock.objects.count()
    # Images are shared: fewer files than images.
    media = ProductMedia.objects.count()
    assert len(set(ProductMedia.objects.values_list("image", flat=True))) < media
