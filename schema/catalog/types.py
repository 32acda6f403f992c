"""Catalog GraphQL types. Other packages (mutation payloads, carts, orders)
import Product, ProductVariant, Category, ProductMedia and Review from here.

What a listing asks per product (price range, rating, thumbnail,
availability) and per category (parent, children, ancestors, product count)
comes from dataloaders, so a page costs the same number of queries whatever
its size."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
import strawberry_django
from django.db.models import QuerySet
from strawberry import Info, relay

from apps.catalog import models, selectors
from schema.catalog import dataloaders
from schema.money import Money
from schema.pagination import CountableConnection
from schema.permissions import current_user


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
    distribution: list[RatingCount] = strawberry.field(
        description="How many visible reviews gave each number of stars, 1 to 5."
    )


@strawberry_django.type(models.ProductMedia, name="ProductMedia")
class ProductMedia(relay.Node):
    id: relay.NodeID[int]
    alt: str
    sort_order: int

    @strawberry_django.field(only=["image"])
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

    @strawberry_django.field(only=["path", "depth"])
    async def parent(self, root: models.Category, info: Info) -> Category | None:
        if root.depth <= 1:
            return None
        parent_path = root.path[: -models.Category.steplen]
        return await info.context.loader(dataloaders.category_by_path).load(parent_path)

    @strawberry_django.field(only=["path"], description="Subcategories, in menu order.")
    async def children(self, root: models.Category, info: Info) -> list[Category]:
        return list(await info.context.loader(dataloaders.category_children).load(root.path))

    @strawberry_django.field(only=["path"], description="From the root down to the parent.")
    async def ancestors(self, root: models.Category, info: Info) -> list[Category]:
        return list(await info.context.loader(dataloaders.category_ancestors).load(root.path))

    @strawberry_django.field(
        only=["path"],
        description="Products customers can see in this category and the ones below it.",
    )
    async def product_count(self, root: models.Category, info: Info) -> int:
        return await info.context.loader(dataloaders.category_product_count).load(root.path)

    @strawberry_django.connection(
        CountableConnection["Product"],
        only=["path"],
        description="Visible products of this category and the ones below it.",
    )
    def products(self, root: models.Category, info: Info) -> Iterable[models.Product]:
        return selectors.products_in_category(user=current_user(info), category=root)


@strawberry_django.type(models.Review, name="Review")
class Review(relay.Node):
    id: relay.NodeID[int]
    rating: int
    title: str
    body: str
    verified_purchase: bool
    created_at: datetime

    @strawberry_django.field(
        only=["user__first_name", "user__last_name"],
        select_related=["user"],
        description='The reviewer as the shop shows them, e.g. "Ada L."',
    )
    def author_name(self, root: models.Review) -> str:
        return author_name(root.user.first_name, root.user.last_name)


@strawberry_django.type(models.ProductVariant, name="ProductVariant")
class ProductVariant(relay.Node):
    id: relay.NodeID[int]
    sku: str
    name: str
    low_stock_threshold: int
    weight_grams: int | None
    created_at: datetime
    updated_at: datetime

    @strawberry_django.field(select_related=["product"])
    def product(self, root: models.ProductVariant) -> Product:
        # Not the plain relation: Product.get_queryset hides unpublished
        # products, but a cart line or an order still needs its variant's product.
        return root.product

    @strawberry_django.field(only=["price"])
    def price(self, root: models.ProductVariant) -> Money:
        return Money.of(root.price)

    @strawberry_django.field(only=["compare_at_price"])
    def compare_at_price(self, root: models.ProductVariant) -> Money | None:
        return Money.of(root.compare_at_price)

    @strawberry_django.field(only=["options"])
    def options(self, root: models.ProductVariant) -> list[VariantOption]:
        return [
            VariantOption(name=str(o.get("name", "")), value=str(o.get("value", "")))
            for o in root.options or []
            if isinstance(o, dict)
        ]

    @strawberry_django.field(description="On hand minus allocated, summed over warehouses.")
    async def quantity_available(self, root: models.ProductVariant, info: Info) -> int:
        return await info.context.loader(dataloaders.variant_quantity_available).load(root.pk)


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
    media: list[ProductMedia]
    variants: list[ProductVariant]

    @classmethod
    def get_queryset(cls, queryset: QuerySet, info: Info, **kwargs) -> QuerySet:
        # Every way to a Product (lists, `product`, `node`) sees the same products.
        return selectors.products_visible_to(user=current_user(info), queryset=queryset)

    @strawberry_django.field(only=["attributes"])
    def attributes(self, root: models.Product) -> list[ProductAttribute]:
        return attributes_of(root.attributes)

    @strawberry_django.field(description="The first image, as a listing shows it.")
    async def thumbnail(self, root: models.Product, info: Info) -> Image | None:
        media = await info.context.loader(dataloaders.product_thumbnail).load(root.pk)
        if media is None:
            return None
        image = media.thumbnail or media.image
        return Image(url=absolute_url(info, image.url), alt=media.alt)

    @strawberry_django.field(description="Lowest and highest variant price; null without variants.")
    async def price_range(self, root: models.Product, info: Info) -> PriceRange | None:
        offer = await info.context.loader(dataloaders.product_offer).load(root.pk)
        if offer.min_price is None:
            return None
        return PriceRange(start=Money.of(offer.min_price), stop=Money.of(offer.max_price))

    @strawberry_django.field(description="Whether some variant has stock available.")
    async def is_available(self, root: models.Product, info: Info) -> bool:
        offer = await info.context.loader(dataloaders.product_offer).load(root.pk)
        return offer.quantity_available > 0

    @strawberry_django.field
    async def rating(self, root: models.Product, info: Info) -> Rating:
        summary = await info.context.loader(dataloaders.product_rating).load(root.pk)
        return Rating(
            average=summary.average,
            count=summary.count,
            distribution=[
                RatingCount(stars=stars, count=summary.distribution.get(stars, 0))
                for stars in range(1, 6)
            ],
        )

    @strawberry_django.connection(
        CountableConnection[Review], description="Visible reviews, newest first."
    )
    def reviews(self, root: models.Product) -> Iterable[models.Review]:
        return selectors.visible_reviews(product=root)


def attributes_of(raw: object) -> list[ProductAttribute]:
    """`Product.attributes` is a JSON object of name -> values; tolerate a
    single value stored as a scalar."""
    if not isinstance(raw, dict):
        return []
    result = []
    for name, values in raw.items():
        if not isinstance(values, list):
            values = [values]
        result.append(ProductAttribute(name=str(name), values=[str(v) for v in values]))
    return result


def author_name(first_name: str, last_name: str) -> str:
    """First name and last initial: enough to feel personal, not enough to
    find someone."""
    first, last = first_name.strip(), last_name.strip()
    if first and last:
        return f"{first} {last[0].upper()}."
    return first or (f"{last[0].upper()}." if last else "A customer")


def absolute_url(info: Info, url: str) -> str:
    request = getattr(info.context, "request", None)
    if request is not None and hasattr(request, "build_absolute_uri"):
        return request.build_absolute_uri(url)
    return url
