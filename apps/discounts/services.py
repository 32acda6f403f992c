"""Coupon writes: creating and changing coupons (deactivating is
`is_active=False`), and recording and giving back their uses, which the
checkout and the orders will call.

Every check is on the field the client sent and refuses the input once with
all that is wrong with it (apps.core.validation). The combination of type and
value is checked on the coupon as it will be, so that an update changing one
is checked against the stored other.
"""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.models import Category, Product
from apps.core.errors import ErrorCode, ServiceError
from apps.core.validation import (
    Problems,
    Reason,
    clean_count,
    clean_moment,
    clean_price,
    decimal_limits,
    max_length,
    max_value,
    normalize_email,
    reject_unknown,
)
from apps.discounts.models import Coupon, CouponUse, DiscountType
from apps.discounts.rules import CODE_PATTERN, normalize_code
from apps.discounts.selectors import coupon_use_counts

COUPON_FIELDS = {
    "code", "discount_type", "value", "min_subtotal", "usage_limit", "usage_limit_per_user",
    "valid_from", "valid_until", "is_active", "categories", "products",
}


def _clean_code(problems: Problems, coupon: Coupon, value: Any) -> None:
    code = normalize_code(value)
    limit = max_length(Coupon, "code")
    if not code:
        problems.add("code", "This field is required.", ErrorCode.REQUIRED)
    elif len(code) > limit:
        problems.add("code", f"At most {limit} characters.")
    elif not CODE_PATTERN.match(code):
        problems.add("code", "Use only letters, numbers, hyphens and underscores, starting "
                     "with a letter or number.")
    elif Coupon.objects.filter(code=code).exclude(pk=coupon.pk).exists():
        problems.add("code", f"The code {code} is taken.", ErrorCode.UNIQUE)
    coupon.code = code


def _clean_limit(problems: Problems, field: str, value: Any) -> int | None:
    if value is None:
        return None
    count = clean_count(problems, field, value, limit=max_value(Coupon, field))
    if count == 0:
        problems.add(field, "At least 1; leave it out for no limit.")
        return None
    return count


def _clean_percentage(problems: Problems, value: Any) -> Decimal | None:
    """A percentage: above 0, at most 100, with the column's places (not the
    currency's: 12.5% is a rate in any currency)."""
    places, _ = decimal_limits(Coupon, "value")
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        rate = Decimal("NaN")
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or not isinstance(exponent, int):
        problems.refuse("value", Reason.NOT_A_NUMBER, value=value)
    elif not 0 < rate <= 100:
        problems.add("value", "A percentage above 0, at most 100.")
    elif exponent < -places:
        problems.refuse("value", Reason.TOO_MANY_PLACES, places=places)
    else:
        return rate
    return None


def _clean_value(problems: Problems, coupon: Coupon, value: Any) -> None:
    """The value as the type needs it: a percentage, an amount above 0 in the
    shop's currency, nothing for free shipping."""
    kind = coupon.discount_type
    if kind == DiscountType.FREE_SHIPPING:
        if value is not None:
            problems.add("value", "A free-shipping coupon takes no value.")
        coupon.value = None
        return
    if value is None or value == "":
        problems.add("value", "This field is required.", ErrorCode.REQUIRED)
        return
    if kind == DiscountType.PERCENTAGE:
        coupon.value = _clean_percentage(problems, value)
        return
    amount = clean_price(problems, "value", value, column=decimal_limits(Coupon, "value"),
                         required=True)
    if amount is not None and amount <= 0:
        problems.add("value", "An amount above 0.")
    coupon.value = amount


def _clean_coupon(problems: Problems, coupon: Coupon, fields: dict[str, Any]) -> None:
    if "code" in fields:
        _clean_code(problems, coupon, fields["code"])
    if "discount_type" in fields:
        kind = fields["discount_type"]
        if kind is None:
            problems.add("discount_type", "This field is required.", ErrorCode.REQUIRED)
        elif kind not in DiscountType.values:
            problems.add("discount_type", "One of " + ", ".join(DiscountType.values) + ".")
        else:
            coupon.discount_type = kind
    if coupon.discount_type in DiscountType.values:
        # Against the type as it will be: a new type checks the stored value.
        _clean_value(problems, coupon, fields.get("value", coupon.value))
    if "min_subtotal" in fields:
        coupon.min_subtotal = clean_price(problems, "min_subtotal", fields["min_subtotal"],
                                          column=decimal_limits(Coupon, "min_subtotal"),
                                          required=False)
    for limit in ("usage_limit", "usage_limit_per_user"):
        if limit in fields:
            setattr(coupon, limit, _clean_limit(problems, limit, fields[limit]))
    for moment in ("valid_from", "valid_until"):
        if moment in fields:
            setattr(coupon, moment, clean_moment(problems, moment, fields[moment]))
    if "is_active" in fields:
        if fields["is_active"] is None:
            problems.add("is_active", "This field is required.", ErrorCode.REQUIRED)
        else:
            coupon.is_active = bool(fields["is_active"])
    start, end = coupon.valid_from, coupon.valid_until
    if start is not None and end is not None and end <= start:
        problems.add("valid_until" if "valid_until" in fields else "valid_from",
                     "The end of the window must come after its start.")


def _save(coupon: Coupon, fields: dict[str, Any]) -> Coupon:
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError:
        # A concurrent write took the code between the check and the save.
        raise ServiceError(f"The code {coupon.code} is taken.", code=ErrorCode.UNIQUE,
                           field="code") from None
    if "categories" in fields:
        coupon.categories.set(list(fields["categories"] or []))
    if "products" in fields:
        coupon.products.set(list(fields["products"] or []))
    return coupon


@transaction.atomic
def coupon_create(
    *, actor: Any, code: str | None, discount_type: str | None, value: Decimal | None = None,
    min_subtotal: Decimal | None = None, usage_limit: int | None = None,
    usage_limit_per_user: int | None = None, valid_from: datetime | None = None,
    valid_until: datetime | None = None, is_active: bool = True,
    categories: Iterable[Category] = (), products: Iterable[Product] = (),
) -> Coupon:
    """A coupon; its code is stored in upper case. Without categories and
    products it applies to every line; with them, to the lines of those
    products and of those categories and their descendants."""
    fields: dict[str, Any] = {
        "code": code, "discount_type": discount_type, "value": value,
        "min_subtotal": min_subtotal, "usage_limit": usage_limit,
        "usage_limit_per_user": usage_limit_per_user, "valid_from": valid_from,
        "valid_until": valid_until, "is_active": is_active,
        "categories": list(categories), "products": list(products),
    }
    problems = Problems()
    coupon = Coupon()
    _clean_coupon(problems, coupon, fields)
    problems.raise_any()
    return _save(coupon, fields)


@transaction.atomic
def coupon_update(*, actor: Any, coupon: Coupon, **fields: Any) -> Coupon:
    """Change what is given; `is_active=False` deactivates the coupon (uses
    already made stay counted). `categories`/`products` replace the scope."""
    reject_unknown(fields, COUPON_FIELDS)
    # Checked against the stored row, not attributes an admin form has set.
    stored = Coupon.objects.select_for_update().get(pk=coupon.pk)
    for name in COUPON_FIELDS - {"categories", "products"} - set(fields):
        setattr(coupon, name, getattr(stored, name))
    problems = Problems()
    _clean_coupon(problems, coupon, fields)
    problems.raise_any()
    return _save(coupon, fields)


@transaction.atomic
def coupon_use_record(*, coupon: Coupon, order_id: int, email: str, user: Any = None) -> CouponUse:
    """Count a placed order's use of the coupon, inside the order's
    transaction. The coupon's row is locked first, so that concurrent
    checkouts racing for its last use take it one at a time: exactly
    `usage_limit` of them get it, and the rest are INVALID_COUPON. Recording
    the same order twice answers the first use."""
    locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
    existing = CouponUse.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    uses, mine = coupon_use_counts(coupon=locked, email=email, user=user)
    if locked.usage_limit is not None and uses >= locked.usage_limit:
        raise ServiceError(f"The coupon {locked.code} has been used up.",
                           code=ErrorCode.INVALID_COUPON, field="coupon")
    if locked.usage_limit_per_user is not None and mine >= locked.usage_limit_per_user:
        raise ServiceError(f"You have already used the coupon {locked.code} as often as it "
                           "allows.", code=ErrorCode.INVALID_COUPON, field="coupon")
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    return CouponUse.objects.create(coupon=locked, order_id=order_id,
                                    email=normalize_email(email), user=user if signed_in else None)


def coupon_use_release(*, order_id: int) -> bool:
    """Give an order's use back (the order was cancelled or expired unpaid);
    False when it had none to give back. Harmless to repeat."""
    released = CouponUse.objects.filter(order_id=order_id, released_at__isnull=True).update(
        released_at=timezone.now()
    )
    return bool(released)
