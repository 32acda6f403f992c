"""The demo shop: a perfume and cosmetics shop, generated from a seed.

Everything the catalog holds comes from one `random.Random(seed)`, drawn in a
fixed order, so the same seed gives the same categories, slugs, SKUs, prices,
stock and reviews on any database. Nothing is derived from the clock (only the
bookkeeping timestamps `created_at`/`updated_at`/`published_at` are).

Why this bypasses the per-object services (apps.catalog.services,
apps.inventory.services): those are for API writes, one product at a time,
with a query or more per row; seeding thousands of products through them
would take minutes. Here rows are built in memory and inserted with
`bulk_create` in batches, inside one transaction. The invariants the services
keep still hold, by construction:
- slugs and SKUs are unique (a set of those already taken is kept);
- prices and compare-at prices are non-negative Decimals with two places;
- every variant gets one Stock row in the default warehouse, quantity >= 0,
  nothing allocated, and one StockMovement of kind INITIAL carrying the
  quantity, so the audit trail adds up to what is on hand;
- descriptions are HTML that apps.catalog.services.sanitize_description
  leaves as it is;
- the search document is refreshed for every product created
  (apps.catalog.search.refresh_search_vector).

The customers' past orders are the exception: apps.demo.orders places them
through the checkout and order services, after the products, and then
makes each review verified exactly when its author bought the product.
"""

import html
import itertools
import os
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from apps.accounts.models import User
from apps.catalog import models
from apps.catalog.search import refresh_search_vector
from apps.demo import images, words
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


@dataclass
class Leaf:
    category: models.Category
    family: words.Family
    # What the products are called, e.g. "Eau de Parfum" ("… Velvet Dune Eau de Parfum").
    noun: str
    # The family's key in words.FAMILIES.
    code: str


# --- Entry point -------------------------------------------------------------------------


def seed_demo(
    *,
    products: int = DEFAULT_PRODUCTS,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    batch_size: int = 500,
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
            _product_spec(rng, number, leaves, len(customers), taken_slugs, taken_skus)
            for number in range(1, products + 1)
        )
        with tqdm(total=products, unit="product", disable=not progress) as bar:
            for batch in _batched(specs, batch_size):
                _write_batch(batch, warehouse=warehouse, customers=customers, result=result)
                bar.update(len(batch))
        _seed_extras(rng, customers=customers, result=result, orders=orders)
        refresh_search_vector(product_ids=result.product_ids)
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
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def _seed_extras(rng: random.Random, *, customers: list[User], result: SeedResult,
                 orders: int | None) -> None:
    # After the products, so that what is drawn from the rng for them stays
    # put whatever is added here.
    seed_coupons()
    seed_shipping_and_tax()
    count = demo_orders.default_order_count(len(customers)) if orders is None else orders
    result.orders, result.orders_skipped = demo_orders.seed_orders(
        rng, customers=customers, product_ids=result.product_ids, count=count)
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


# --- Products ---------------------------------------------------------------------------


@dataclass
class ProductSpec:
    product: models.Product
    variants: list[tuple[models.ProductVariant, int]]  # with the quantity on hand
    media: list[int]  # palette offsets, one image each
    reviews: list[tuple[int, int, str, str, bool]]  # customer index, rating, title, body, verified


def _product_spec(
    rng: random.Random,
    number: int,
    leaves: list[Leaf],
    customer_count: int,
    taken_slugs: set[str],
    taken_skus: set[str],
) -> ProductSpec:
    # Fragrance is what the shop is known for: it gets more products.
    leaf = rng.choices(leaves, weights=[3 if lf.code == "fragrance" else 1 for lf in leaves])[0]
    brand = rng.choice(words.BRANDS)
    name = f"{brand} {rng.choice(words.WORDS_A)} {rng.choice(words.WORDS_B)} {leaf.noun}"
    slug = _unique(slugify(name), taken_slugs)
    attributes = _attributes(rng, leaf)
    is_published = rng.random() < 0.92
    product = models.Product(
        name=name,
        slug=slug,
        category=leaf.category,
        description=_description(rng, name, leaf, attributes),
        attributes=attributes,
        seo_title=f"{name} | Demo Shop",
        seo_description=f"{name} by {brand}: {leaf.noun.lower()} from our "
                        f"{leaf.category.name.lower()} range.",
        is_published=is_published,
        published_at=timezone.now() if is_published else None,
    )

    base = Decimal(rng.randint(*leaf.family.price))
    on_sale = rng.random() < 0.2
    combos = list(itertools.product(*(values for _, values in leaf.family.options)))
    count = min(len(combos), rng.choices([1, 2, 3, 4, 5], weights=[25, 25, 25, 15, 10])[0])
    if leaf.family.step:  # sizes: consecutive, smallest first
        start = rng.randrange(len(combos) - count + 1)
        chosen = combos[start:start + count]
    else:
        chosen = sorted(rng.sample(combos, count), key=combos.index)
    variants = []
    for index, combo in enumerate(chosen):
        step = combos.index(combo) if leaf.family.step else 0
        price = _price(base * Decimal(str(1 + leaf.family.step * step)), rng)
        compare_at = (price * Decimal("1.25")).quantize(Decimal("1"), ROUND_CEILING)
        options = [{"name": n, "value": v} for (n, _), v in zip(leaf.family.options, combo)]
        variant = models.ProductVariant(
            sku=_unique(f"DEMO-{number:05d}-{index + 1}", taken_skus),
            name=" / ".join(combo),
            options=options,
            price=price,
            compare_at_price=compare_at if on_sale else None,
            weight_grams=rng.randint(40, 900),
            low_stock_threshold=rng.choice([3, 5, 10]),
            sort_order=index,
        )
        quantity = 0 if rng.random() < 0.08 else rng.randint(1, 120)
        variants.append((variant, quantity))

    media = [0] if rng.random() < 0.7 else [0, rng.randint(1, len(words.PALETTES) - 1)]
    reviews = []
    review_count = min(customer_count, rng.choices(range(9), weights=words.REVIEW_COUNT_WEIGHTS)[0])
    for customer in rng.sample(range(customer_count), review_count):
        rating = rng.choices([1, 2, 3, 4, 5], weights=[4, 6, 15, 35, 40])[0]
        reviews.append((customer, rating, rng.choice(words.REVIEW_TITLES[rating]),
                        rng.choice(words.REVIEW_BODIES[rating]), rng.random() < 0.6))
    return ProductSpec(product, variants, media, reviews)


def _unique(candidate: str, taken: set[str]) -> str:
    value, n = candidate, 2
    while value in taken:
        value, n = f"{candidate}-{n}", n + 1
    taken.add(value)
    return value


def _price(amount: Decimal, rng: random.Random) -> Decimal:
    """A shop price: whole units ending in .00, .50, .95 or .99."""
    return amount.quantize(Decimal("1")) + rng.choice(
        [Decimal("0.00"), Decimal("0.50"), Decimal("0.95"), Decimal("0.99")]
    )


def _attributes(rng: random.Random, leaf: Leaf) -> dict[str, list[str]]:
    family = leaf.code
    if family in ("fragrance", "set"):
        return {
            "Top notes": rng.sample(words.NOTES_TOP, 2),
            "Heart notes": rng.sample(words.NOTES_HEART, 2),
            "Base notes": rng.sample(words.NOTES_BASE, rng.randint(2, 3)),
            "Accords": rng.sample(words.ACCORDS, rng.randint(2, 3)),
            "Concentration": [leaf.noun if family == "fragrance" else "Eau de Parfum"],
        }
    if family == "skincare":
        return {
            "Skin type": sorted(rng.sample(words.SKIN_TYPES, rng.randint(1, 3))),
            "Key ingredients": rng.sample(words.SKIN_INGREDIENTS, rng.randint(1, 3)),
            "Texture": [rng.choice(["gel", "cream", "lotion", "balm", "oil"])],
        }
    if family in ("complexion", "eyes", "lips"):
        return {
            "Finish": [rng.choice(words.FINISHES)],
            "Coverage": [rng.choice(["sheer", "medium", "full"])],
            "Vegan": [rng.choice(["yes", "no"])],
        }
    if family == "hair":
        return {
            "Hair type": sorted(rng.sample(words.HAIR_TYPES, rng.randint(1, 2))),
            "Key ingredients": rng.sample(words.HAIR_INGREDIENTS, rng.randint(1, 2)),
        }
    return {  # body, home
        "Accords": rng.sample(words.ACCORDS, 2),
        "Key ingredients": rng.sample(["shea butter", "essential oils", "soy wax",
                                       "sea salt", "almond oil"], 2),
    }


def _description(rng: random.Random, name: str, leaf: Leaf, attributes: dict) -> str:
    if "Top notes" in attributes:
        first = (f"{name} opens on {attributes['Top notes'][0]} and "
                 f"{attributes['Top notes'][1]}, with a heart of "
                 f"{attributes['Heart notes'][0]}, and settles on "
                 f"{' and '.join(attributes['Base notes'][:2])}.")
    else:
        first = f"{name}: a {leaf.noun.lower()} made with care, for every day."
    second = rng.choice([
        "Made in small batches and never tested on animals.",
        "Recyclable glass, refillable where we can.",
        "Dermatologically tested. Free from parabens.",
        "Our best seller since the day it launched.",
    ])
    return f"<p>{html.escape(first, quote=False)}</p><p>{second}</p>"


# --- Writing ---------------------------------------------------------------------------------


def _batched(items, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _write_batch(batch: list[ProductSpec], *, warehouse: Warehouse, customers: list[User],
                 result: SeedResult) -> None:
    products = models.Product.objects.bulk_create([spec.product for spec in batch])
    result.product_ids.extend(p.pk for p in products)
    result.products += len(products)

    variants = [(v, qty) for spec in batch for v, qty in _attach(spec.variants, spec.product)]
    models.ProductVariant.objects.bulk_create([v for v, _ in variants])
    result.variants += len(variants)
    stocks = Stock.objects.bulk_create(
        [Stock(variant=v, warehouse=warehouse, quantity_on_hand=qty) for v, qty in variants]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(stock=stock, kind=StockMovement.Kind.INITIAL,
                          quantity_delta=stock.quantity_on_hand, reason="Demo data",
                          reference="seed_demo")
            for stock in stocks
        ]
    )

    media = []
    for spec in batch:
        for position, palette in enumerate(spec.media):
            image, thumbnail = images.store_image(spec.product, palette, position)
            media.append(models.ProductMedia(product=spec.product, image=image,
                                             thumbnail=thumbnail, alt=spec.product.name,
                                             sort_order=position))
    models.ProductMedia.objects.bulk_create(media)
    result.media += len(media)

    reviews = [
        models.Review(product=spec.product, user=customers[who], rating=rating, title=title,
                      body=body, verified_purchase=verified)
        for spec in batch
        for who, rating, title, body, verified in spec.reviews
    ]
    models.Review.objects.bulk_create(reviews)
    result.reviews += len(reviews)


def _attach(variants, product):
    for variant, quantity in variants:
        variant.product = product
        yield variant, quantity
