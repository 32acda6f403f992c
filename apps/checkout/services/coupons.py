"""A cart's coupon: one at a time, checked by the coupon rules when it is
applied, and again every time the cart is priced (a coupon that stops
applying is a COUPON_NOT_APPLICABLE warning) and at checkout."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.checkout.models import Cart
from apps.checkout.pricing import cart_lines, coupon_lines
from apps.core.errors import ErrorCode, ServiceError
from apps.discounts.rules import CouponRefused, normalize_code
from apps.discounts.selectors import coupon_by_code, coupon_check

from .access import Token, cart_for_change


@transaction.atomic
def cart_coupon_apply(*, user: Any, token: Token, code: str | None) -> Cart:
    """Put the coupon on the cart, in place of any other; one that does not
    apply to the cart as it is now is INVALID_COUPON, saying why."""
    cart = cart_for_change(user=user, token=token)
    if not normalize_code(code):
        raise ServiceError("Enter a coupon code.", code=ErrorCode.REQUIRED, field="code")
    coupon = coupon_by_code(code=code or "")
    if coupon is None:
        raise ServiceError(f"There is no coupon {normalize_code(code)}.",
                           code=ErrorCode.INVALID_COUPON, field="code")
    answer = coupon_check(coupon=coupon, lines=coupon_lines(cart_lines(cart)),
                          email=cart.email, user=cart.user if cart.user_id else None,
                          now=timezone.now())
    if isinstance(answer, CouponRefused):
        raise ServiceError(answer.message, code=ErrorCode.INVALID_COUPON, field="code")
    cart.coupon = coupon
    cart.save(update_fields=["coupon", "updated_at"])
    return cart


@transaction.atomic
def cart_coupon_remove(*, user: Any, token: Token) -> Cart:
    """Take the coupon off; harmless when there is none."""
    cart = cart_for_change(user=user, token=token)
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon", "updated_at"])
    return cart
