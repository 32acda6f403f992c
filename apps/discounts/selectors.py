"""Coupon reads: who sees coupons, a coupon's terms for the rules, and the
counts of its uses."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from apps.accounts.permissions import Perm, staff_has_perm
from apps.core.validation import normalize_email
from apps.discounts.models import Coupon, CouponUse
from apps.discounts.rules import (
    CouponApplies,
    CouponLine,
    CouponRefused,
    CouponTerms,
    coupon_applicability,
    normalize_code,
)


def coupons_visible_to(*, user: Any, queryset: QuerySet[Coupon] | None = None) -> QuerySet[Coupon]:
    """Coupons are the marketing team's: staff with MANAGE_DISCOUNTS see them
    all; to anyone else none exist (a shopper learns of a code by applying it)."""
    queryset = Coupon.objects.all() if queryset is None else queryset
    return queryset if staff_has_perm(user, Perm.MANAGE_DISCOUNTS) else queryset.none()


def counted_uses() -> Count:
    """The uses that count against the limits: those not given back."""
    return Count("uses", filter=Q(uses__released_at__isnull=True))


def coupon_list() -> QuerySet[Coupon]:
    """Every coupon, newest first."""
    return Coupon.objects.order_by("-created_at", "-id")


def coupon_counted(*, coupon: Coupon) -> Coupon:
    """The coupon again with its `used_count`, as a list shows it: what a
    mutation answers after writing."""
    return Coupon.objects.annotate(used_count=counted_uses()).get(pk=coupon.pk)


def coupon_by_code(*, code: str) -> Coupon | None:
    """The coupon a shopper typed, whatever its case; None when there is none."""
    return Coupon.objects.filter(code=normalize_code(code)).first()


def coupon_terms(*, coupon: Coupon) -> CouponTerms:
    """The coupon as the rules take it (two queries: its categories' paths
    and its products)."""
    return CouponTerms(
        code=coupon.code,
        discount_type=coupon.discount_type,
        value=coupon.value,
        min_subtotal=coupon.min_subtotal_money,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        is_active=coupon.is_active,
        usage_limit=coupon.usage_limit,
        usage_limit_per_user=coupon.usage_limit_per_user,
        category_paths=frozenset(coupon.categories.values_list("path", flat=True)),
        product_ids=frozenset(coupon.products.values_list("pk", flat=True)),
    )


def coupon_use_counts(*, coupon: Coupon, email: str | None, user: Any = None) -> tuple[int, int]:
    """(uses in all, uses by this customer), not counting uses given back, in
    one query. A guest is known by normalised email; a signed-in customer by
    their account and their email both, so signing out does not reset a
    limit and neither does signing in."""
    email = normalize_email(email)
    mine = Q(email=email) if email else Q(pk__in=[])
    if user is not None and getattr(user, "is_authenticated", False):
        mine |= Q(user=user)
    counts = CouponUse.objects.filter(coupon=coupon, released_at__isnull=True).aggregate(
        uses=Count("pk"), mine=Count("pk", filter=mine),
    )
    return int(counts["uses"]), int(counts["mine"])


def coupon_check(
    *, coupon: Coupon, lines: Sequence[CouponLine], email: str | None, user: Any = None,
    now: datetime,
) -> CouponApplies | CouponRefused:
    """The rules with what they need read from the database (three queries):
    what the cart shows, and what checkout asks again before it places the
    order (where coupon_use_record then counts under a lock)."""
    uses, mine = coupon_use_counts(coupon=coupon, email=email, user=user)
    return coupon_applicability(coupon=coupon_terms(coupon=coupon), lines=lines, now=now,
                                uses=uses, uses_by_customer=mine)
