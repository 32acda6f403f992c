"""Catalog GraphQL types. Other packages (mutation payloads, carts, orders)
import Product, ProductVariant, Category, ProductMedia and Review from here.

What a listing asks per product (price range, rating, cover image,
availability) comes with the page itself, as annotations the optimizer adds
only when the field is selected; what it asks per category (parent,
children, ancestors, product count) comes from dataloaders. Either way a
page costs the same number of queries whatever its size."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import cast

import strawberry
import strawberry_django
from django.core.files.storage import DefaultStorage, FileSystemStorage
from django.utils.functional import empty
from strawberry import Info, relay

from apps.accounts.permissions import Perm
from apps.catalog import models, selectors
from apps.core.money import shop_currency
from schema.catalog import dataloaders
from schema.cost import list_size
from schema.inventory.types import VariantStock
from schema.money import Money
from schema.pagination import CountableConnection, KeysetConnection
from schema.permissions import StaffPerm, current_user, visible_through
from schema.resolvers import async_safe


@strawberry.type
class ProductAttribute:
    name: str
    values: list[str]


@strawberry.type
class VariantOption:
    name: str
    value: str


@strawberry.type
class Image:
    url: str
    alt: str


@strawberry.type
class PriceRange:
    start: Money
    stop: Money


@strawberry.type
class RatingCount:
    stars: int
    count: int


@strawberry.type
class Rating:
    average: float | None = strawberry.field(
        description="Mean of the visible reviews' stars, to 2 places; null without reviews."
    )
    count: int
    product_id: strawberry.Private[int]

    @strawberry.field(
        description="How many visible reviews gave each number of stars, 1 to 5.",
        directives=list_size(5),
    )
    async def distribution(self, info: Info) -> list[RatingCount]:
        # Only a product page asks for it, so it is loaded on demand.
        summary = await info.context.loader(dataloaders.product_rating).load(self.product_id)
        return [
            RatingCount(stars=stars, count=summary.distribution.get(stars, 0))
            for stars in range(1, 6)
        ]


@strawberry_django.type(models.ProductMedia, name="ProductMedia")
class ProductMedia(relay.Node):
    id: relay.NodeID[int]
    alt: str
    sort_order: int = strawberry_django.field(
        deprecation_reason="Use `position`, the name productMediaUpdate takes."
    )

    @strawberry_django.field(
        only=["sort_order"],
        description="Place among the product's images, 0 first (the first is the product's "
        "cover, `Product.thumbnail`); what productMediaUpdate(position:) sets.",
    )
    @async_safe
    def position(self, root: models.ProductMedia) -> int:
        return root.sort_order

    @strawberry_django.field(only=["image"])
    @async_safe
    def url(self, root: models.ProductMedia, info: Info) -> str:
        return absolute_url(info, root.image.url)


@strawberry_django.type(models.Category, name="Category")
class Category(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    description: str
    depth: int
    created_at: datetime
    updated_at: datetime

    # Each answers at once when the categories' connection filled its loader
    # for the page (fill_loaders), else through the loader's batch.
    @strawberry_django.field(only=["path", "depth"])
    @async_safe
    def parent(self, root: models.Category, info: Info) -> Category | None:
        if root.depth <= 1:
            return None
        return info.context.loader(dataloaders.category_by_path).answer(_parent_path(root))

    @strawberry_django.field(only=["path"], description="Subcategories, in menu order.",
                             directives=list_size(10))
    @async_safe
    def children(self, root: models.Category, info: Info) -> list[Category]:
        return info.context.loader(dataloaders.category_children).answer(root.path, list)

    @strawberry_django.field(only=["path"], description="From the root down to the parent.",
                             directives=list_size(10))
    async def ancestors(self, root: models.Category, info: Info) -> list[Category]:
        return list(await info.context.loader(dataloaders.category_ancestors).load(root.path))

    @strawberry_django.field(
        only=["path"],
        description="Products customers can see in this category and the ones below it.",
    )
    @async_safe
    def product_count(self, root: models.Category, info: Info) -> int:
        return info.context.loader(dataloaders.category_product_count).answer(root.path)

    @classmethod
    def fill_loaders(cls, nodes: list[models.Category], info: Info, selected: set[str]) -> None:
        """What a page of categories will ask, one query each, in the
        database thread (schema/connection_fields.py)."""
        context = info.context
        if "children" in selected:
            context.loader(dataloaders.category_children).fill(node.path for node in nodes)
        if "productCount" in selected:
            context.loader(dataloaders.category_product_count).fill(node.path for node in nodes)
        if "parent" in selected:
            context.loader(dataloaders.category_by_path).fill(
                _parent_path(node) for node in nodes if node.depth > 1)

    @strawberry_django.connection(
        KeysetConnection["Product"],
        only=["path"],
        description="Visible products of this category and the ones below it.",
    )
    def products(self, root: models.Category, info: Info) -> Iterable[models.Product]:
        return selectors.products_in_category(user=current_user(info), category=root)


def _parent_path(category: models.Category) -> str:
    return category.path[: -models.Category.steplen]


@strawberry_django.type(models.Review, name="Review")
class Review(relay.Node):
    id: relay.NodeID[int]
    rating: int
    title: str
    body: str
    verified_purchase: bool = strawberry_django.field(
        description="Whether the author had a paid order of the product when they wrote it."
    )
    is_hidden: bool = strawberry_django.field(
        description="Hidden by staff: off the storefront and out of the rating. Only staff "
        "with MANAGE_PRODUCTS see hidden reviews at all."
    )
    created_at: datetime

    get_queryset = visible_through(selectors.reviews_visible_to)

    @strawberry_django.field(
        only=["user__first_name", "user__last_name"],
        select_related=["user"],
        description='The reviewer as the shop shows them, e.g. "Ada L."',
    )
    def author_name(self, root: models.Review) -> str:
        return selectors.review_author_name(review=root)


@strawberry_django.type(models.ProductVariant, name="ProductVariant")
class ProductVariant(relay.Node):
    id: relay.NodeID[int]
    sku: str
    name: str
    low_stock_threshold: int
    weight_grams: int | None
    created_at: datetime
    updated_at: datetime

    # Lists and node look-ups; a cart line reaches its variant by foreign
    # key, which this does not filter.
    get_queryset = visible_through(selectors.variants_visible_to)

    @strawberry_django.field(select_related=["product"])
    def product(self, root: models.ProductVariant) -> Product:
        # Not the plain relation: Product.get_queryset hides unpublished
        # products, but a cart line or an order still needs its variant's product.
        # (Product is defined below, too late for graphql_type=: a cast instead.)
        return cast(Product, root.product)

    @strawberry_django.field(only=["price"])
    @async_safe
    def price(self, root: models.ProductVariant) -> Money:
        return Money.from_money(root.price_money)

    @strawberry_django.field(only=["compare_at_price"])
    @async_safe
    def compare_at_price(self, root: models.ProductVariant) -> Money | None:
        compare_at = root.compare_at_price_money
        return None if compare_at is None else Money.from_money(compare_at)

    @strawberry_django.field(only=["options"], directives=list_size(5))
    @async_safe
    def options(self, root: models.ProductVariant) -> list[VariantOption]:
        return [
            VariantOption(name=str(o.get("name", "")), value=str(o.get("value", "")))
            for o in root.options or []
            if isinstance(o, dict)
        ]

    @strawberry_django.field(description="On hand minus allocated, summed over warehouses.")
    async def quantity_available(self, root: models.ProductVariant, info: Info) -> int:
        return await info.context.loader(dataloaders.variant_quantity_available).load(root.pk)

    stocks: list[VariantStock] = strawberry_django.field(
        extensions=[StaffPerm(Perm.MANAGE_PRODUCTS)],
        description="Stock per warehouse, the default one first. Catalog managers only.",
        directives=list_size(5),
    )


def listing_hints(*names: str) -> dict:
    """Optimizer hints: these product-card values as annotations."""
    return {name: (lambda info, name=name: listing_annotation(name)) for name in names}


@functools.cache
def listing_annotation(name: str):
    """A card value's expression, built once per process rather than on
    every request (about a tenth of a listing's time): a query that takes
    an expression resolves a copy of it, so one instance serves them all."""
    return selectors.LISTING_ANNOTATIONS[name]()


def with_card(root: models.Product, info: Info, build, *names: str):
    """`build` the field from the product's card values: the annotations when
    the product came from a listing, else (a mutation's answer, a cart
    line's product) one batched load for all such products."""
    loaded = root.__dict__  # the annotations are instance attributes, not descriptors
    try:
        card = {name: loaded[name] for name in names}
    except KeyError:
        pass
    else:
        return build(card)

    async def load():
        return build(await info.context.loader(dataloaders.product_listing).load(root.pk))

    return load()


@strawberry_django.type(models.Product, name="Product")
class Product(relay.Node):
    id: relay.NodeID[int]
    name: str
    slug: str
    description: str
    seo_title: str
    seo_description: str
    is_published: bool
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    category: Category | None
    media: list[ProductMedia] = strawberry_django.field(directives=list_size(10))
    variants: list[ProductVariant] = strawberry_django.field(directives=list_size(20))

    # Every way to a Product (lists, `product`, `node`) sees the same products.
    get_queryset = visible_through(selectors.products_visible_to)

    @strawberry_django.field(only=["attributes"], directives=list_size(10))
    @async_safe
    def attributes(self, root: models.Product) -> list[ProductAttribute]:
        return [
            ProductAttribute(name=name, values=values)
            for name, values in selectors.product_attributes(product=root)
        ]

    @strawberry_django.field(
        annotate=listing_hints("cover_image", "cover_thumbnail", "cover_alt"),
        description="The first image, as a listing shows it.",
    )
    @async_safe
    def thumbnail(self, root: models.Product, info: Info) -> Image | None:
        def build(card: dict) -> Image | None:
            # The cover's small rendition; the image itself when none was made.
            name = card["cover_thumbnail"] or card["cover_image"]
            if not name:
                return None
            return Image(url=absolute_url(info, media_url(name)),
                         alt=card["cover_alt"])

        return with_card(root, info, build, "cover_image", "cover_thumbnail", "cover_alt")

    @strawberry_django.field(
        annotate=listing_hints("lowest_price", "highest_price"),
        description="Lowest and highest variant price; null without variants.",
    )
    @async_safe
    def price_range(self, root: models.Product, info: Info) -> PriceRange | None:
        def build(card: dict) -> PriceRange | None:
            if card["lowest_price"] is None:
                return None
            currency = shop_currency()
            return PriceRange(start=Money.of(card["lowest_price"], currency),
                              stop=Money.of(card["highest_price"], currency))

        return with_card(root, info, build, "lowest_price", "highest_price")

    @strawberry_django.field(
        annotate=listing_hints("in_stock"), description="Whether some variant has stock available."
    )
    @async_safe
    def is_available(self, root: models.Product, info: Info) -> bool:
        return with_card(root, info, lambda card: bool(card["in_stock"]), "in_stock")

    @strawberry_django.field(annotate=listing_hints("review_count", "review_stars"))
    @async_safe
    def rating(self, root: models.Product, info: Info) -> Rating:
        def build(card: dict) -> Rating:
            count = card["review_count"] or 0
            return Rating(
                average=selectors.average_stars(total=card["review_stars"], count=count),
                count=count,
                product_id=root.pk,
            )

        return with_card(root, info, build, "review_count", "review_stars")

    @strawberry_django.connection(
        CountableConnection[Review], description="Visible reviews, newest first."
    )
    def reviews(self, root: models.Product) -> Iterable[models.Review]:
        return selectors.visible_reviews(product=root)


@functools.cache
def media_storage():
    # The field's storage object is the process's (default_storage, a lazy
    # object, when none is named): what it wraps may change with settings.
    return models.ProductMedia._meta.get_field("image").storage


def media_url(name: str) -> str:
    """The stored image's URL. A file system's URL is a function of the
    name and the storage's base URL alone, so it is worked out once per
    process (a listing asks for a hundred on every page); another storage's
    (signed, expiring) URL is asked for every time."""
    storage = media_storage()
    if type(storage) is DefaultStorage:
        wrapped = object.__getattribute__(storage, "_wrapped")  # not through its proxy
        if wrapped is not empty:
            storage = wrapped  # skips the lazy object's proxy, twice a product
    if storage.__class__ is FileSystemStorage:  # the wrapped class, behind default_storage
        return _file_system_url(storage.base_url, name)
    return storage.url(name)


@functools.lru_cache(maxsize=8192)
def _file_system_url(base_url: str, name: str) -> str:
    return FileSystemStorage(base_url=base_url).url(name)


def absolute_url(info: Info, url: str) -> str:
    return info.context.absolute_url(url)
