"""Inputs of the admin catalog mutations. They become service arguments
through schema.inputs.provided (only the fields the client sent), IDs decoded
into objects with schema.ids."""

from decimal import Decimal

import strawberry
from strawberry import UNSET


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
