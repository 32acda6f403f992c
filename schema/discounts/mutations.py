"""Coupon mutations, for staff with MANAGE_DISCOUNTS. Deactivating is
`couponUpdate(input: {isActive: false})`: a coupon with uses is never deleted."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET, Info

from apps.accounts.permissions import Perm
from apps.catalog import models as catalog_models
from apps.discounts import models, selectors, services
from schema.discounts.types import Coupon, DiscountType
from schema.errors import Payload, payload_mutation
from schema.ids import get_node, get_nodes
from schema.inputs import provided
from schema.permissions import StaffPerm, signed_in_user


@strawberry.input
class CouponInput:
    """A coupon's terms. On create `code` and `discountType` are required and
    what is left out takes its default; on update what is left out stays."""

    code: str | None = strawberry.field(default=UNSET, description="Any case; stored in "
                                        "upper case, unique whatever the case.")
    discount_type: DiscountType | None = UNSET
    value: Decimal | None = strawberry.field(
        default=UNSET, description="Percent above 0 up to 100 (PERCENTAGE), an amount above 0 "
        "(FIXED_AMOUNT); none for FREE_SHIPPING."
    )
    min_subtotal: Decimal | None = strawberry.field(
        default=UNSET, description="Of the lines the coupon applies to, before any discount."
    )
    usage_limit: int | None = strawberry.field(default=UNSET, description="At least 1; null: "
                                               "no limit.")
    usage_limit_per_user: int | None = strawberry.field(default=UNSET, description="At least "
                                                        "1; null: no limit.")
    valid_from: datetime | None = strawberry.field(default=UNSET, description="Without a time "
                                                   "zone: UTC.")
    valid_until: datetime | None = strawberry.field(default=UNSET, description="The first "
                                                    "moment it no longer applies.")
    is_active: bool | None = strawberry.field(default=UNSET, description="Default true.")
    category_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Scope: these categories and their subcategories. "
        "Replaces the scope on update."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Scope: these products, beside the categories."
    )


@strawberry.type
class CouponCreatePayload(Payload):
    coupon: models.Coupon | None = strawberry.field(default=None, graphql_type=Coupon | None)


@strawberry.type
class CouponUpdatePayload(Payload):
    coupon: models.Coupon | None = strawberry.field(default=None, graphql_type=Coupon | None)


def _terms(input: CouponInput) -> dict[str, Any]:
    """The input as the services take it: enums as values, IDs as objects."""
    fields = provided(input)
    if fields.get("discount_type") is not None:
        fields["discount_type"] = fields["discount_type"].value
    if "category_ids" in fields:
        fields["categories"] = get_nodes(catalog_models.Category.objects.all(),
                                         fields.pop("category_ids") or [],
                                         type_name="Category", field="category_ids")
    if "product_ids" in fields:
        fields["products"] = get_nodes(catalog_models.Product.objects.live(),
                                       fields.pop("product_ids") or [],
                                       type_name="Product", field="product_ids")
    return fields


@strawberry.type
class DiscountsMutation:
    @payload_mutation(extensions=[StaffPerm(Perm.MANAGE_DISCOUNTS)])
    def coupon_create(self, info: Info, input: CouponInput) -> CouponCreatePayload:
        actor = signed_in_user(info)
        fields = _terms(input)
        fields.setdefault("code", None)
        fields.setdefault("discount_type", None)
        if fields.get("is_active", True) is None:
            fields.pop("is_active")  # null: the default
        coupon = services.coupon_create(actor=actor, **fields)
        return CouponCreatePayload(coupon=selectors.coupon_counted(coupon=coupon))

    @payload_mutation(
        extensions=[StaffPerm(Perm.MANAGE_DISCOUNTS)],
        description="Change what is given; `isActive: false` deactivates the coupon.",
    )
    def coupon_update(self, info: Info, id: strawberry.ID, input: CouponInput
                      ) -> CouponUpdatePayload:
        actor = signed_in_user(info)
        coupon = get_node(models.Coupon.objects.all(), id, type_name="Coupon", field="id")
        coupon = services.coupon_update(actor=actor, coupon=coupon, **_terms(input))
        return CouponUpdatePayload(coupon=selectors.coupon_counted(coupon=coupon))
