"""Orders, their lines, their history, and the money taken and given back.

An order is a snapshot: names, SKUs, prices, the address, the shipping method
and the coupon are copied in when it is placed, so that renaming or
repricing a product, or deleting a shipping method, never rewrites what a
customer bought. The foreign keys beside the snapshots (variant, product,
shipping method, coupon) are for reports and links and may go null.

Status and payment status change only through
apps.orders.services.transitions.order_transition, which applies the table
of apps.orders.transitions with a conditional UPDATE and writes an
OrderEvent; nothing else assigns them.

Money columns hold amounts in the order's currency, rounded to its places
(apps.core.money): the parts add up to the total because they were computed
and rounded line by line before they were stored.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.core.models import ShippingAddressCopy
from apps.core.money import Money



class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Placed, awaiting payment"
    PROCESSING = "PROCESSING", "Paid, to fulfil"
    SHIPPED = "SHIPPED", "Shipped"
    DELIVERED = "DELIVERED", "Delivered"
    CANCELLED = "CANCELLED", "Cancelled"


class PaymentStatus(models.TextChoices):
    NOT_CHARGED = "NOT_CHARGED", "Not charged"
    PENDING = "PENDING", "Payment pending"
    PAID = "PAID", "Paid"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", "Partially refunded"
    REFUNDED = "REFUNDED", "Refunded"
    FAILED = "FAILED", "Payment failed"


class Order(ShippingAddressCopy):
    # Human-friendly and unique: the id plus ORDER_NUMBER_OFFSET, given in
    # the same transaction that inserts the row (null only inside it).
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    # The guest's receipt link (orderByToken): whoever holds it sees the order.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The cart it was placed from: unique, so that one cart makes one order
    # however often, or however concurrently, checkout is completed.
    cart_token = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="orders",
    )
    email = models.EmailField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.NOT_CHARGED
    )
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    total_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    shipping_method = models.ForeignKey(
        "shipping.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    shipping_method_name = models.CharField(max_length=255, blank=True)
    coupon = models.ForeignKey(
        "discounts.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coupon_code = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_refunded__gte=0) & Q(total_refunded__lte=F("total")),
                name="order_refunds_within_total",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    def money(self, amount: Decimal) -> Money:
        return Money.of(amount, self.currency)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    product_name = models.CharField(max_length=255)
    variant_name = models.CharField(max_length=255, blank=True)
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # unit_price × quantity − discount; tax is on top (prices are
    # tax-exclusive), at tax_rate (a fraction, 0.2 for 20 %).
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class OrderEvent(models.Model):
    """One thing that happened to an order, for its history and the desk."""

    class Type(models.TextChoices):
        PLACED = "PLACED", "Placed"
        PAID = "PAID", "Paid"
        PAYMENT_FAILED = "PAYMENT_FAILED", "Payment failed"
        FULFILLED = "FULFILLED", "Shipped"
        DELIVERED = "DELIVERED", "Delivered"
        CANCELLED = "CANCELLED", "Cancelled"
        REFUNDED = "REFUNDED", "Refunded"
        NOTE = "NOTE", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=20, choices=Type.choices)
    # The states before and after (equal when only the other one changed).
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    from_payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, blank=True
    )
    to_payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} on {self.order_id}"


class Payment(models.Model):
    """One charge through a gateway (apps.payments): what was asked, what the
    gateway answered, and its reference there."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        DECLINED = "DECLINED", "Declined"
        CANCELLED = "CANCELLED", "Cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=50)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The gateway's id of the charge (a PaymentIntent's id for Stripe).
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    # What the storefront's payment form needs to finish a pending charge;
    # empty for gateways that charge at once.
    client_secret = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    message = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.gateway} {self.amount} {self.currency} ({self.status})"


class Refund(models.Model):
    """Money given back on a payment; each call of orderRefund is its own.

    REQUESTED is an attempt written (and committed) before the gateway is
    asked, so that its idempotency key survives an answer that never came:
    it counts as reserved against what may be refunded, not as refunded,
    until the gateway's answer settles it (apps.orders.services.refund_attempts)."""

    class Status(models.TextChoices):
        REQUESTED = "REQUESTED", "Requested (the gateway's answer is not known yet)"
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    # When the key was first sent: a gateway keeps keys for a while (Stripe
    # 24 hours), after which a retry must look the refund up instead.
    key_made_at = models.DateTimeField(default=timezone.now)
    # REQUESTED, and the gateway was asked without an answer coming back
    # (not an attempt still on its way): the next ask settles it.
    unanswered = models.BooleanField(default=False)
    reason = models.CharField(max_length=1000, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} back on payment {self.payment_id}"
