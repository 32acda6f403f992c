"""Inputs of the admin catalog mutations, and how they become service
arguments: only the fields the client sent, IDs decoded into objects
(schema.ids)."""

from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET

from apps.catalog import models
from schema.ids import get_node


@strawberry.input
class CategoryInput:
    name: str | None = UNSET
    slug: str | None = strawberry.field(
        default=UNSET, description="Made from the name when left out (create only)."
    )
    description: str | None = UNSET
    parent_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="null puts the category at the top level."
    )
    position: int | None = strawberry.field(
        default=UNSET,
        description="Place among its siblings, 0 first (menus show this order). Left out: "
        "last when created or moved to another parent, unchanged otherwise.",
    )


@strawberry.input
class ProductAttributeInput:
    name: str
    values: list[str]


@strawberry.input
class VariantOptionInput:
    name: str
    value: str


@strawberry.input
class ProductVariantInput:
    sku: str
    price: Decimal
    name: str | None = UNSET
    compare_at_price: Decimal | None = UNSET
    stock: int | None = strawberry.field(
        default=UNSET, description="The starting quantity on hand in the default warehouse."
    )
    low_stock_threshold: int | None = UNSET
    options: list[VariantOptionInput] | None = UNSET
    weight_grams: int | None = UNSET


@strawberry.input(description="Like ProductVariantInput, without stock: stock changes only "
                              "through stockAdjust and orders.")
class ProductVariantUpdateInput:
    sku: str | None = UNSET
    price: Decimal | None = UNSET
    name: str | None = UNSET
    compare_at_price: Decimal | None = UNSET
    low_stock_threshold: int | None = UNSET
    options: list[VariantOptionInput] | None = UNSET
    weight_grams: int | None = UNSET


@strawberry.input
class ProductCreateInput:
    name: str
    slug: str | None = strawberry.field(default=UNSET, description="Made from the name when left out.")
    description: str | None = strawberry.field(default=UNSET, description="HTML; sanitised.")
    category_id: strawberry.ID | None = UNSET
    is_published: bool | None = UNSET
    seo_title: str | None = UNSET
    seo_description: str | None = UNSET
    attributes: list[ProductAttributeInput] | None = UNSET
    variants: list[ProductVariantInput] | None = UNSET


@strawberry.input
class ProductUpdateInput:
    name: str | None = UNSET
    slug: str | None = UNSET
    description: str | None = UNSET
    category_id: strawberry.ID | None = UNSET
    is_published: bool | None = UNSET
    seo_title: str | None = UNSET
    seo_description: str | None = UNSET
    attributes: list[ProductAttributeInput] | None = UNSET


def provided(data: Any) -> dict[str, Any]:
    """The fields of an input object the client sent (null included), as plain
    Python: nested inputs become dicts, lists stay lists."""

    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(item) for item in value]
        if hasattr(value, "__strawberry_definition__"):
            return provided(value)
        return value

    return {name: plain(value) for name, value in vars(data).items() if value is not UNSET}


def live_product(global_id, field: str) -> models.Product:
    return get_node(models.Product.objects.alive(), global_id, type_name="Product", field=field)


def deleted_product(global_id, field: str) -> models.Product:
    return get_node(models.Product.objects.filter(deleted_at__isnull=False), global_id,
                    type_name="Product", field=field)


def live_media(global_id, field: str) -> models.ProductMedia:
    return get_node(
        models.ProductMedia.objects.filter(product__deleted_at__isnull=True)
        .select_related("product"),
        global_id, type_name="ProductMedia", field=field,
    )


def live_variant(global_id, field: str) -> models.ProductVariant:
    return get_node(
        models.ProductVariant.objects.filter(product__deleted_at__isnull=True)
        .select_related("product"),
        global_id, type_name="ProductVariant", field=field,
    )
