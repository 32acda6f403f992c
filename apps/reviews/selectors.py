"""Reads behind reviews: whether the author bought what they review."""

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.catalog.models import Product
from apps.orders.models import OrderLine, OrderStatus, PaymentStatus

# Payment states of an order whose goods the customer paid for and kept at
# least in part. A fully refunded order does not count (the money went back:
# returned, never delivered, or cancelled after payment), and neither does
# one never paid.
BOUGHT = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


def bought_lines() -> QuerySet[OrderLine]:
    """The order lines that prove a purchase: of a paid, not cancelled
    order. The rule in one place, for `has_bought` and for whoever checks
    many reviews at once (the demo data)."""
    return OrderLine.objects.filter(order__payment_status__in=BOUGHT).exclude(
        order__status=OrderStatus.CANCELLED)


def has_bought(*, user: User, product: Product) -> bool:
    """Whether `user` has a paid, not cancelled order with `product` in it.
    Orders count by account: a guest order placed with the same email is not
    proof that the account's owner placed it."""
    return bought_lines().filter(product=product, order__user=user).exists()
