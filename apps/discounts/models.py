"""Coupons and their uses.

A coupon's code is stored in upper case ("summer10" and "SUMMER10" are one
coupon): shoppers type codes as they remember them, and the services
normalise every code they are given (apps.discounts.rules.normalize_code).

Uses are counted on placed orders. Orders sit above discounts (see
.importlinter), so a use names its order by id, not by a foreign key: the
discounts app never depends on the orders app's tables or migrations.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from apps.core.money import Money


class DiscountType(models.TextChoices):
    PERCENTAGE = "PERCENTAGE", "Percentage off the lines it applies to"
    FIXED_AMOUNT = "FIXED_AMOUNT", "A fixed amount off the lines it applies to"
    FREE_SHIPPING = "FREE_SHIPPING", "Free shipping"


class Coupon(models.Model):
    code = models.CharField(max_length=50)
    discount_type = models.CharField(max_length=20, choices=DiscountType.choices)
    # A percentage (0 < value <= 100) or an amount in the shop's currency;
    # null for FREE_SHIPPING, which has no value.
    value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Of the lines the coupon applies to, before any discount; null: none.
    min_subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Null: no limit.
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_limit_per_user = models.PositiveIntegerField(null=True, blank=True)
    # The scope: no category and no product means every line. A category
    # covers its descendants.
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="coupon_code_unique"),
            models.CheckConstraint(
                condition=Q(discount_type=DiscountType.FREE_SHIPPING, value__isnull=True)
                # (NULL > 0 is not false to a CHECK: the null is refused apart.)
                | (~Q(discount_type=DiscountType.FREE_SHIPPING) & Q(value__isnull=False)
                   & Q(value__gt=0)),
                name="coupon_value_fits_type",
            ),
            models.CheckConstraint(
                condition=~Q(discount_type=DiscountType.PERCENTAGE) | Q(value__lte=100),
                name="coupon_percentage_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True)
                | Q(valid_until__gt=models.F("valid_from")),
                name="coupon_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def min_subtotal_money(self) -> Money | None:
        return None if self.min_subtotal is None else Money.of(self.min_subtotal)


class CouponUse(models.Model):
    """One placed order that used the coupon. Released (given back) when the
    order is cancelled or expires unpaid; released uses do not count."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="uses")
    order_id = models.PositiveBigIntegerField(unique=True)
    # Normalised (apps.core.validation.normalize_email): guests are counted
    # by email, signed-in customers by account and email both.
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    used_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-used_at", "-id"]
        indexes = [models.Index(fields=["coupon", "email"])]

    def __str__(self) -> str:
        return f"{self.coupon_id} on order {self.order_id}"
