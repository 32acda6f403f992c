"""Small test factories: plain keyword-only functions that write real rows.
Every argument has a workable default, so a test names only what it checks."""

import io
import itertools
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from apps.accounts.models import User
from apps.catalog.models import Category, Product, ProductMedia, ProductVariant, Review
from apps.catalog.search import refresh_search_vector
from apps.catalog.services import refresh_sort_keys
from apps.inventory.models import Stock, Warehouse

_seq = itertools.count(1)


def make_category(*, name: str | None = None, slug: str | None = None,
                  parent: Category | None = None, description: str = "") -> Category:
    n = next(_seq)
    fields = {"name": name or f"Category {n}", "slug": slug or f"category-{n}",
              "description": description}
    if parent is None:
        return Category.objects.add_root(fields)
    parent.refresh_from_db()  # treebeard keeps child counts on the parent row
    return Category.objects.add_child(parent, fields)


def make_product(*, name: str | None = None, slug: str | None = None,
                 category: Category | None = None, description: str = "",
                 attributes: dict | None = None, is_published: bool = True,
                 deleted: bool = False, **extra) -> Product:
    n = next(_seq)
    product = Product.objects.create(
        name=name or f"Product {n}",
        slug=slug or f"product-{n}",
        category=category,
        description=description,
        attributes=attributes or {},
        is_published=is_published,
        published_at=timezone.now() if is_published else None,
        deleted_at=timezone.now() if deleted else None,
        **extra,
    )
    refresh_search_vector(product_ids=[product.pk])
    return product


def make_variant(*, product: Product, sku: str | None = None, name: str = "",
                 price: Decimal | str = "10.00", compare_at_price: Decimal | str | None = None,
                 options: list | None = None, stock: int | None = None, allocated: int = 0,
                 low_stock_threshold: int = 5, **extra) -> ProductVariant:
    """`stock` (when given) is the quantity on hand in the default warehouse."""
    n = next(_seq)
    variant = ProductVariant.objects.create(
        product=product,
        sku=sku or f"SKU-{n}",
        name=name,
        price=Decimal(price),
        compare_at_price=Decimal(compare_at_price) if compare_at_price is not None else None,
        options=options or [],
        low_stock_threshold=low_stock_threshold,
        **extra,
    )
    if stock is not None:
        make_stock(variant=variant, quantity_on_hand=stock, allocated=allocated)
    refresh_search_vector(product_ids=[product.pk])
    refresh_sort_keys(product_ids=[product.pk])
    return variant


def make_warehouse(*, name: str | None = None, slug: str | None = None) -> Warehouse:
    n = next(_seq)
    return Warehouse.objects.create(name=name or f"Warehouse {n}", slug=slug or f"warehouse-{n}")


def make_stock(*, variant: ProductVariant, quantity_on_hand: int = 10, allocated: int = 0,
               warehouse: Warehouse | None = None) -> Stock:
    warehouse = warehouse or Warehouse.objects.get(is_default=True)
    return Stock.objects.create(variant=variant, warehouse=warehouse,
                                quantity_on_hand=quantity_on_hand, quantity_allocated=allocated)


def make_reviewer(*, first_name: str = "Ada", last_name: str = "Lovelace") -> User:
    return User.objects.create_user(
        email=f"reviewer{next(_seq)}@example.com", password=None,
        first_name=first_name, last_name=last_name,
    )


def make_review(*, product: Product, user: User | None = None, rating: int = 5,
                title: str = "", body: str = "", verified_purchase: bool = False,
                is_hidden: bool = False) -> Review:
    review = Review.objects.create(
        product=product, user=user or make_reviewer(), rating=rating, title=title, body=body,
        verified_purchase=verified_purchase, is_hidden=is_hidden,
    )
    refresh_sort_keys(product_ids=[product.pk])
    return review


def png_bytes(size: tuple[int, int] = (4, 4), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_media(*, product: Product, alt: str = "", sort_order: int = 0,
               with_thumbnail: bool = False) -> ProductMedia:
    n = next(_seq)
    media = ProductMedia(product=product, alt=alt, sort_order=sort_order)
    media.image.save(f"image-{n}.png", ContentFile(png_bytes()), save=False)
    if with_thumbnail:
        media.thumbnail.save(f"thumb-{n}.png", ContentFile(png_bytes((2, 2))), save=False)
    media.save()
    return media


def make_order(*, lines: list[tuple[ProductVariant, int]], user: User | None = None,
               email: str | None = None, status: str = "PENDING",
               payment_status: str = "NOT_CHARGED", shipping_price: Decimal | str = "5.00",
               tax_rate: Decimal | str = "0", created_at=None, allocate: bool = True,
               paid_with: str | None = "dummy"):
    """An order as checkout would leave it, written directly (the tests of
    orders need one in any state without going through a cart). Its lines'
    stock is allocated through inventory while the order is open; a paid
    order (`payment_status` PAID or after) gets a succeeded Payment through
    `paid_with`. Totals add up: each line's tax is rounded, then summed."""
    from django.conf import settings

    from apps.inventory import services as inventory
    from apps.orders.models import Order, OrderEvent, OrderLine, Payment

    currency = settings.DEFAULT_CURRENCY
    rate = Decimal(tax_rate)
    cent = Decimal("0.01")
    shipping = Decimal(shipping_price)
    priced = []
    for variant, quantity in lines:
        total = variant.price * quantity
        priced.append((variant, quantity, total, (total * rate).quantize(cent)))
    subtotal = sum((p[2] for p in priced), Decimal(0))
    tax = sum((p[3] for p in priced), Decimal(0)) + (shipping * rate).quantize(cent)
    order = Order.objects.create(
        user=user, email=email or (user.email if user else f"guest{next(_seq)}@example.com"),
        status=status, payment_status=payment_status, currency=currency,
        subtotal=subtotal, shipping_price=shipping, tax=tax, total=subtotal + shipping + tax,
        shipping_first_name="Ada", shipping_last_name="Lovelace",
        shipping_street_address_1="12 Analytical Row", shipping_city="London",
        shipping_postal_code="N1 7AA", shipping_country="GB",
        shipping_method_name="Standard",
    )
    order.number = str(order.pk + settings.ORDER_NUMBER_OFFSET)
    order.save(update_fields=["number"])
    for variant, quantity, total, line_tax in priced:
        OrderLine.objects.create(
            order=order, variant=variant, product=variant.product,
            product_name=variant.product.name, variant_name=variant.name, sku=variant.sku,
            quantity=quantity, unit_price=variant.price, total=total, tax=line_tax, tax_rate=rate,
        )
        if allocate and status in ("PENDING", "PROCESSING"):
            inventory.stock_allocate(variant=variant, quantity=quantity,
                                     reference=f"order:{order.number}")
    OrderEvent.objects.create(order=order, type=OrderEvent.Type.PLACED, to_status="PENDING",
                              to_payment_status="NOT_CHARGED")
    if paid_with and payment_status in ("PAID", "PARTIALLY_REFUNDED", "REFUNDED"):
        Payment.objects.create(
            order=order, gateway=paid_with, status=Payment.Status.SUCCEEDED, amount=order.total,
            currency=currency, reference=f"dummy-{order.number}",
            idempotency_key=f"test-{order.token}",
        )
    if created_at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=created_at)
        order.refresh_from_db()
    return order


# --- Carts, shipping and tax (for the cart and checkout) ---------------------------------


def make_shipping_method(*, countries: tuple[str, ...] = ("US",), name: str = "Standard",
                         price: Decimal | str = "5.00", free_above: Decimal | str | None = None,
                         min_weight_grams: int | None = None,
                         max_weight_grams: int | None = None):
    """A method of the zone holding `countries[0]` (made, with the
    countries, when there is none)."""
    from apps.shipping.models import ShippingMethod, ShippingZone, ShippingZoneCountry

    zone = ShippingZone.objects.filter(countries__country=countries[0]).first()
    if zone is None:
        zone = ShippingZone.objects.create(name=f"Zone {next(_seq)}")
        for country in countries:
            ShippingZoneCountry.objects.create(zone=zone, country=country)
    return ShippingMethod.objects.create(
        zone=zone, name=name, price=Decimal(price),
        free_above=None if free_above is None else Decimal(free_above),
        min_weight_grams=min_weight_grams, max_weight_grams=max_weight_grams,
    )


def make_tax_rate(*, country: str = "US", rate: Decimal | str = "10", country_area: str = "",
                  category: Category | None = None):
    from apps.taxes.models import TaxRate

    return TaxRate.objects.create(country=country, rate=Decimal(rate),
                                  country_area=country_area, category=category)


def make_coupon(**fields):
    """A coupon through the service (its code in upper case); 10% off by default."""
    from apps.discounts import services

    values = {"code": f"SAVE{next(_seq)}", "discount_type": "PERCENTAGE", "value": Decimal(10)}
    return services.coupon_create(actor=None, **{**values, **fields})


ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "street_address_1": "12 Analytical Row",
           "city": "New York", "postal_code": "10001", "country_area": "NY", "country": "US"}


def make_cart(*, lines: list[tuple[ProductVariant, int]] = (), user: User | None = None,
              email: str | None = "guest@example.com", address: dict | None = None,
              shipping_method=None, coupon=None, state: str = "ACTIVE"):
    """A cart written directly, its lines at their variants' prices now."""
    from apps.checkout.models import Cart, CartLine

    cart = Cart.objects.create(
        user=user, email=email if email is not None else (user.email if user else ""),
        state=state, coupon=coupon, shipping_method=shipping_method,
        **{f"shipping_{name}": value for name, value in (address or {}).items()},
    )
    for variant, quantity in lines:
        CartLine.objects.create(cart=cart, variant=variant, quantity=quantity,
                                price_when_added=variant.price)
    return cart
def make_webhook(*, url: str = "https://hooks.example.com/shop",
                 event_types: tuple[str, ...] = ("order.paid",), is_active: bool = True):
    """An endpoint written directly, past the URL check (its host need not
    resolve): the tests of what is delivered where."""
    from apps.webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(url=url, event_types=list(event_types),
                                          is_active=is_active)
