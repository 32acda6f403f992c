"""Carts. A cart is addressed by its token, so a guest can shop without an
account; a signed-in customer's active cart is also found through them.

Nothing about money is stored on a cart but what a line's price was when it
was added (to warn when it changed): prices, discounts, shipping and tax are
computed live from the catalog, the coupon, the shipping table and the tax
table every time the cart is read (apps.checkout.pricing), so a cart never
shows a stale total. checkoutComplete turns that computation into an order's
snapshot.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import ShippingAddressCopy


class CartState(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    # Checked out: it refuses every change; its order is the one whose
    # cart_token is this cart's token.
    COMPLETED = "COMPLETED", "Checked out"
    # Merged into a customer's cart, or left alone too long.
    ABANDONED = "ABANDONED", "Abandoned"


class Cart(ShippingAddressCopy):
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
        related_name="carts",
    )
    email = models.EmailField(blank=True)
    state = models.CharField(max_length=20, choices=CartState.choices, default=CartState.ACTIVE)
    coupon = models.ForeignKey(
        "discounts.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    shipping_method = models.ForeignKey(
        "shipping.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            # One active cart per customer: me.cart is never ambiguous.
            models.UniqueConstraint(
                fields=["user"], condition=Q(state=CartState.ACTIVE), name="one_active_cart_per_user"
            ),
        ]

    def __str__(self) -> str:
        return str(self.token)

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.shipping_country)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    # A product deleted (soft) or unpublished after it was added keeps its
    # line, shown with a warning that blocks checkout until it is removed. A
    # variant deleted outright takes the line with it.
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    # The variant's price when the line was added (or its quantity last
    # changed): a different price now is a PRICE_CHANGED warning.
    price_when_added = models.DecimalField(max_digits=12, decimal_places=2)
    # What a merge wanted the quantity to be when it had to cap it at what
    # was available (a QUANTITY_CAPPED warning); cleared by the next change.
    requested_quantity = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="one_line_per_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"
