"""The demo shop: a perfume and cosmetics shop, generated from a seed.

Everything the catalog holds comes from one `random.Random(seed)`, drawn in a
fixed order, so the same seed gives the same categories, slugs, SKUs, prices,
stock and reviews on any database. Nothing is derived from the clock (only the
bookkeeping timestamps `created_at`/`updated_at`/`published_at` are).

Why this bypasses the per-object services (apps.catalog.services,
apps.inventory.services): those are for API writes, one product at a time,
with a query or more per row; seeding thousands of products through them
would take minutes, and the scale benchmark's 200,000 hours. Here rows are
drawn in memory (apps.demo.products) and written in batches by
apps.demo.bulk (COPY on PostgreSQL, bulk_create elsewhere), inside one
transaction. The invariants the services keep still hold, by construction:
- slugs and SKUs are unique (a set of those already taken is kept);
- prices and compare-at prices are non-negative Decimals with two places;
- every variant gets one Stock row in the default warehouse, quantity >= 0,
  nothing allocated, and one StockMovement of kind INITIAL carrying the
  quantity, so the audit trail adds up to what is on hand;
- descriptions are HTML that apps.catalog.services.sanitize_description
  leaves as it is;
- the sort keys (lowest price, average rating) are worked out from the rows
  drawn as each product row is written (what
  apps.catalog.services.refresh_sort_keys computes from them, which
  tests/test_seed_demo.py checks), and the search document by the function
  the services call (apps.catalog.search.refresh_search_vector), from the
  rows written.

The customers' past orders are the exception: apps.demo.orders places them
through the checkout and order services, after the products, and then
makes each review verified exactly when its author bought the product.
"""

import itertools
import os
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils.text import slugify
from tqdm import tqdm

from apps.accounts.models import User
from apps.catalog import models
from apps.catalog.search import refresh_search_vector
from apps.demo import bulk, images, words
from apps.demo.products import Leaf, ProductSpec, product_spec
from apps.demo import orders as demo_orders
from apps.demo.coupons import seed_coupons
from apps.demo.shipping import seed_shipping_and_tax
from apps.inventory.services import default_warehouse
from apps.inventory.models import Stock, StockMovement, Warehouse
from apps.orders.models import Order, OrderEvent, OrderLine

DEFAULT_PRODUCTS = 200
DEFAULT_SEED = 1
ADMIN_EMAIL = "admin@example.com"
# Every demo customer signs in with this password (printed by seed_demo).
CUSTOMER_PASSWORD = "demo-customer-password"


@dataclass
class SeedResult:
    categories: int = 0
    products: int = 0
    variants: int = 0
    media: int = 0
    customers: int = 0
    reviews: int = 0
    verified_reviews: int = 0
    orders: int = 0
    # Why no orders were made, when none were.
    orders_skipped: str = ""
    admin_email: str | None = None
    admin_password: str | None = None
    product_ids: list[int] = field(default_factory=list)
    # Customer id -> the products they mean to buy, in review order.
    wishes: dict[int, list[int]] = field(default_factory=dict)


# --- Entry point -------------------------------------------------------------------------


def seed_demo(
    *,
    products: int = DEFAULT_PRODUCTS,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    batch_size: int = 2000,
    admin_password: str | None = None,
    orders: int | None = None,
) -> SeedResult:
    """Fill an empty catalog with `products` demo products, the same for the
    same seed. Demo customers and the staff superuser are created when
    missing, and so are the demo coupons (apps.demo.coupons), shipping
    zones and tax rates (apps.demo.shipping). Then the customers' past
    orders (apps.demo.orders): `orders` of them, by default about two per
    customer; 0 for none."""
    rng = random.Random(seed)
    result = SeedResult()
    with transaction.atomic():
        leaves = _seed_categories(result)
        customers = _seed_customers(rng, count=max(10, min(300, products // 5)), result=result)
        warehouse = default_warehouse()
        taken_slugs = set(models.Product.objects.values_list("slug", flat=True))
        taken_skus = set(models.ProductVariant.objects.values_list("sku", flat=True))
        specs = (
            product_spec(rng, number, leaves, len(customers), taken_slugs, taken_skus)
            for number in range(1, products + 1)
        )
        pictures = images.SharedImages()
        # The products' indexes come back after their search documents are
        # written, the others' before (that update looks variants up by
        # product).
        with bulk.indexes_set_aside(models.Product):
            with bulk.indexes_set_aside(models.ProductVariant, Stock, StockMovement,
                                        models.ProductMedia, models.Review):
                with tqdm(total=products, unit="product", disable=not progress) as bar:
                    for batch in _batched(specs, batch_size):
                        _write_batch(batch, warehouse=warehouse, customers=customers,
                                     pictures=pictures, result=result)
                        bar.update(len(batch))
            refresh_search_vector(product_ids=result.product_ids)
        _seed_extras(rng, customers=customers, result=result, orders=orders)
    _seed_admin(result, password=admin_password)
    _analyze()
    return result


def _analyze() -> None:
    """Fresh planner statistics: right after a bulk load PostgreSQL still
    believes the tables are empty and picks sequential scans (a listing
    query measured 76 ms before, 4 ms after) until autovacuum comes by."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (
        models.Category, models.Product, models.ProductVariant, models.ProductMedia,
        models.Review, Stock, StockMovement, User, Order, OrderLine, OrderEvent,
    )]
    with connection.cursor() as cursor:
        if not connection.in_atomic_block:
            # The load updated every product once (its search document):
            # without the old versions a scan reads less.
            cursor.execute(f"VACUUM {models.Product._meta.db_table}")
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def _seed_extras(rng: random.Random, *, customers: list[User], result: SeedResult,
                 orders: int | None) -> None:
    # After the products, so that what is drawn from the rng for them stays
    # put whatever is added here.
    seed_coupons()
    seed_shipping_and_tax()
    count = demo_orders.default_order_count(len(customers)) if orders is None else orders
    result.orders, result.orders_skipped = demo_orders.seed_orders(
        rng, customers=customers, product_ids=result.product_ids, count=count,
        wishes=result.wishes)
    # The reviews' drawn flag said who meant to buy; what they bought decides.
    result.verified_reviews = demo_orders.reviews_verify(product_ids=result.product_ids)


# --- Categories, customers, the admin ---------------------------------------------------------


def _seed_categories(result: SeedResult) -> list[Leaf]:
    """The fixed three-level tree; a category whose slug exists is reused."""
    existing = {c.slug: c for c in models.Category.objects.all()}
    leaves: list[Leaf] = []

    def node(name: str, slug: str, parent: models.Category | None) -> models.Category:
        if slug in existing:
            return existing[slug]
        fields = {"name": name, "slug": slug, "description": f"<p>{name}, hand-picked.</p>"}
        created = (
            models.Category.objects.add_root(fields)
            if parent is None
            else models.Category.objects.add_child(parent, fields)
        )
        result.categories += 1
        return created

    for top_name, seconds in words.CATEGORY_TREE:
        top = node(top_name, slugify(top_name), None)
        for second_name, thirds in seconds:
            second = node(second_name, f"{top.slug}-{slugify(second_name)}", top)
            for leaf_name, family in thirds:
                leaf = node(leaf_name, f"{second.slug}-{slugify(leaf_name)}", second)
                leaves.append(Leaf(leaf, words.FAMILIES[family], leaf_name, family))
    return leaves


def _seed_customers(rng: random.Random, *, count: int, result: SeedResult) -> list[User]:
    """Demo customers, all with CUSTOMER_PASSWORD (hashed once: hashing costs
    a third of a second)."""
    password = make_password(CUSTOMER_PASSWORD)
    people = []
    for number in range(1, count + 1):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        email = f"{first}.{last}.{number}@example.com".lower()
        people.append(User(email=email, first_name=first, last_name=last, password=password,
                           is_email_verified=True))
    emails = [p.email for p in people]
    before = User.objects.filter(email__in=emails).count()
    User.objects.bulk_create(people, ignore_conflicts=True)
    result.customers = count - before
    by_email = {u.email: u for u in User.objects.filter(email__in=emails)}
    return [by_email[e] for e in emails]


def _seed_admin(result: SeedResult, *, password: str | None) -> None:
    """A staff superuser, when the project has none, so the admin console can
    be tried at once. The password is random unless given."""
    if User.objects.filter(is_superuser=True).exists():
        return
    if User.objects.filter(email=ADMIN_EMAIL).exists():
        return
    password = password or os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
    User.objects.create_superuser(email=ADMIN_EMAIL, password=password,
                                  first_name="Demo", last_name="Admin")
    result.admin_email, result.admin_password = ADMIN_EMAIL, password


# --- Writing ---------------------------------------------------------------------------------


def _batched(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _sort_keys(spec: ProductSpec) -> dict:
    """The product's lowest price and average rating from its drawn rows, so
    that its row is written once, with them (an UPDATE of every product
    after the load rewrote the whole table once more). Its
    reviews are all visible when seeded."""
    prices = [row["price"] for row, _ in spec.variants]
    ratings = [rating for _, rating, *_ in spec.reviews]
    return {"min_price": min(prices) if prices else None,
            "average_rating": sum(ratings) / len(ratings) if ratings else None}


def _write_batch(batch: list[ProductSpec], *, warehouse: Warehouse, customers: list[User],
                 pictures: images.SharedImages, result: SeedResult) -> None:
    product_ids = bulk.insert(models.Product, [dict(spec.product, **_sort_keys(spec))
                                               for spec in batch])
    result.product_ids.extend(product_ids)
    result.products += len(product_ids)

    variants = [(dict(row, product_id=product_id), quantity)
                for spec, product_id in zip(batch, product_ids)
                for row, quantity in spec.variants]
    variant_ids = bulk.insert(models.ProductVariant, [row for row, _ in variants])
    result.variants += len(variant_ids)
    quantities = [quantity for _, quantity in variants]
    stock_ids = bulk.insert(Stock, [
        dict(variant_id=variant_id, warehouse_id=warehouse.pk, quantity_on_hand=quantity)
        for variant_id, quantity in zip(variant_ids, quantities)
    ])
    bulk.insert(StockMovement, [
        dict(stock_id=stock_id, kind=StockMovement.Kind.INITIAL.value, quantity_delta=quantity,
             reason="Demo data", reference="seed_demo")
        for stock_id, quantity in zip(stock_ids, quantities)
    ])

    media = []
    for spec, product_id in zip(batch, product_ids):
        for position, palette in enumerate(spec.media):
            image, thumbnail = pictures.image_for(spec.product, palette)
            media.append(dict(product_id=product_id, image=image, thumbnail=thumbnail,
                              alt=spec.product["name"], sort_order=position))
    result.media += len(bulk.insert(models.ProductMedia, media))

    reviews = []
    for spec, product_id in zip(batch, product_ids):
        for who, rating, title, body, meant_to_buy in spec.reviews:
            # Verified once bought (apps.demo.orders.reviews_verify); what the
            # author meant to buy is what their demo orders hold first.
            reviews.append(dict(product_id=product_id, user_id=customers[who].pk,
                                rating=rating, title=title, body=body))
            if meant_to_buy:
                result.wishes.setdefault(customers[who].pk, []).append(product_id)
    result.reviews += len(bulk.insert(models.Review, reviews))
