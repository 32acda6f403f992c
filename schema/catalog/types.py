"""Catalog GraphQL types. Other packages (mutation payloads, carts, orders)
import Product, ProductVariant, Category and ProductMedia from here."""

from __future__ import annotations

from datetime import datetime

import strawberry
import strawberry_django
from strawberry import Info, relay

from apps.catalog import models
from schema.money import Money


@strawberry.type
class ProductAttribute:
    name: str
    values: list[str]


@strawberry.type
class VariantOption:
    name: str
    value: str


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
    created_at: datetime
    updated_at: datetime


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

    @strawberry_django.field(only=["attributes"])
    def attributes(self, root: models.Product) -> list[ProductAttribute]:
        return attributes_of(root.attributes)


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


def absolute_url(info: Info, url: str) -> str:
    request = getattr(info.context, "request", None)
    if request is not None and hasattr(request, "build_absolute_uri"):
        return request.build_absolute_uri(url)
    return url


__all__ = [
    "Category",
    "Product",
    "ProductAttribute",
    "ProductMedia",
    "ProductVariant",
    "VariantOption",
]
