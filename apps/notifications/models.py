"""The log of the emails the shop sends, and what each customer agreed to
receive.

A Notification is one email of one kind, for one outbox event, to one
address: unique by the three, so that however often an event is delivered
(a broker that redelivers, a retried task, a handler run again by the outbox)
its email has one row, and a row already SENT is not sent again.

Preferences say which optional emails a customer wants. Order and account
emails are not optional and have no column; the optional ones are off until
the customer turns them on. A customer who never touched them has no row,
which reads as every optional email off.
"""

from django.conf import settings
from django.db import models


class Topic(models.TextChoices):
    """What an email is about, for the customer's choice. ORDER and ACCOUNT
    emails always go; the others are opt-in and carry an unsubscribe link."""

    ACCOUNT = "ACCOUNT", "Account"
    ORDER = "ORDER", "Orders"
    STAFF = "STAFF", "Staff alerts"
    BACK_IN_STOCK = "BACK_IN_STOCK", "Back in stock"
    PRICE_DROP = "PRICE_DROP", "Price drops"
    MARKETING = "MARKETING", "News and offers"


# The topics a customer opts in to: each is a column of NotificationPreferences
# (its lower-cased name) and has a one-click unsubscribe link.
OPT_IN_TOPICS = (Topic.BACK_IN_STOCK, Topic.PRICE_DROP, Topic.MARKETING)


class Kind(models.TextChoices):
    ACCOUNT_CONFIRMATION = "ACCOUNT_CONFIRMATION", "Account confirmation"
    PASSWORD_RESET = "PASSWORD_RESET", "Password reset"
    NEW_DEVICE_SIGN_IN = "NEW_DEVICE_SIGN_IN", "Sign-in from a new device"
    TWO_FACTOR_CHANGED = "TWO_FACTOR_CHANGED", "Two-factor sign-in turned on or off"
    STAFF_INVITATION = "STAFF_INVITATION", "Staff invitation"
    ORDER_CONFIRMATION = "ORDER_CONFIRMATION", "Order confirmation"
    PAYMENT_FAILED = "PAYMENT_FAILED", "Payment failed"
    ORDER_SHIPPED = "ORDER_SHIPPED", "Order shipped"
    ORDER_DELIVERED = "ORDER_DELIVERED", "Order delivered"
    ORDER_CANCELLED = "ORDER_CANCELLED", "Order cancelled"
    ORDER_REFUNDED = "ORDER_REFUNDED", "Order refunded"
    ORDER_DISPUTED = "ORDER_DISPUTED", "Order disputed (staff)"
    REFUND_FAILED = "REFUND_FAILED", "Refund failed (staff)"
    LOW_STOCK = "LOW_STOCK", "Low stock (staff)"
    BACK_IN_STOCK = "BACK_IN_STOCK", "Back in stock"
    PRICE_DROP = "PRICE_DROP", "Price drop"
    # Sent by apps.privacy's tasks, through apps.notifications.delivery.
    ACCOUNT_DATA_EXPORT = "ACCOUNT_DATA_EXPORT", "Account data export"
    ACCOUNT_DELETE_CONFIRMATION = "ACCOUNT_DELETE_CONFIRMATION", "Account deletion confirmation"


TOPIC_OF = {
    Kind.ACCOUNT_CONFIRMATION: Topic.ACCOUNT,
    Kind.PASSWORD_RESET: Topic.ACCOUNT,
    Kind.NEW_DEVICE_SIGN_IN: Topic.ACCOUNT,
    Kind.TWO_FACTOR_CHANGED: Topic.ACCOUNT,
    Kind.STAFF_INVITATION: Topic.ACCOUNT,
    Kind.ORDER_CONFIRMATION: Topic.ORDER,
    Kind.PAYMENT_FAILED: Topic.ORDER,
    Kind.ORDER_SHIPPED: Topic.ORDER,
    Kind.ORDER_DELIVERED: Topic.ORDER,
    Kind.ORDER_CANCELLED: Topic.ORDER,
    Kind.ORDER_REFUNDED: Topic.ORDER,
    Kind.ORDER_DISPUTED: Topic.STAFF,
    Kind.REFUND_FAILED: Topic.STAFF,
    Kind.LOW_STOCK: Topic.STAFF,
    Kind.BACK_IN_STOCK: Topic.BACK_IN_STOCK,
    Kind.PRICE_DROP: Topic.PRICE_DROP,
    Kind.ACCOUNT_DATA_EXPORT: Topic.ACCOUNT,
    Kind.ACCOUNT_DELETE_CONFIRMATION: Topic.ACCOUNT,
}


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SENT = "SENT", "Sent"
        # The last attempt failed (its error is kept); Celery tries again
        # until its retries run out, and a later delivery of the event too.
        FAILED = "FAILED", "Failed"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    # The outbox event (apps.core.OutboxEvent) it answers.
    event_id = models.UUIDField()
    recipient = models.EmailField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    # What it is about, for the desk and for "at most one a day per product".
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "kind", "recipient"],
                                    name="notification_once_per_event"),
        ]
        indexes = [
            # The daily limit of wishlist notices looks here.
            models.Index(fields=["user", "kind", "product", "-created_at"],
                         name="notification_recent_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"


class NotificationPreferences(models.Model):
    """The optional emails a customer wants; each column is an OPT_IN_TOPICS
    topic, off by default."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    back_in_stock = models.BooleanField(default=False)
    price_drop = models.BooleanField(default=False)
    marketing = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"

    def wants(self, topic: Topic) -> bool:
        """Whether an email of `topic` may go: always for those that are not
        opt-in."""
        if topic not in OPT_IN_TOPICS:
            return True
        return bool(getattr(self, topic.lower()))
