"""Demo coupons: one of each discount type, one scoped to a category, and one
expired and one switched off, so the cart's refusals have something to show.
Written through the discounts services; a code already there is left alone."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.catalog.models import Category
from apps.discounts import selectors, services


def seed_coupons() -> int:
    """The demo coupons that were missing; how many were made."""
    first_root = Category.objects.get_root_nodes().first()
    specs: list[dict[str, Any]] = [
        {"code": "WELCOME10", "discount_type": "PERCENTAGE", "value": Decimal(10),
         "usage_limit_per_user": 1},
        {"code": "SAVE5", "discount_type": "FIXED_AMOUNT", "value": Decimal(5),
         "min_subtotal": Decimal(30)},
        {"code": "FREESHIP", "discount_type": "FREE_SHIPPING", "min_subtotal": Decimal(50)},
        {"code": "SPRING2025", "discount_type": "PERCENTAGE", "value": Decimal(20),
         "valid_from": datetime(2025, 3, 1, tzinfo=UTC),
         "valid_until": datetime(2025, 6, 1, tzinfo=UTC)},
        {"code": "PAUSED", "discount_type": "FIXED_AMOUNT", "value": Decimal(10),
         "is_active": False},
    ]
    if first_root is not None:
        specs.append({"code": f"{first_root.slug.upper().replace('-', '')[:40]}15",
                      "discount_type": "PERCENTAGE", "value": Decimal(15),
                      "usage_limit": 100, "categories": [first_root]})
    made = 0
    for spec in specs:
        if selectors.coupon_by_code(code=spec["code"]) is None:
            services.coupon_create(actor=None, **spec)
            made += 1
    return made
