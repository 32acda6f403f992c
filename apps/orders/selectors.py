"""Order reads: whose orders a caller sees, and the ways to find one."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from apps.accounts.permissions import Perm, staff_has_perm

from .models import Order, Payment


def orders_visible_to(*, user: Any, queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """A customer sees their own orders, staff managing orders see them all,
    an anonymous caller none (a guest reads their order by its token, which
    order_by_token answers without this rule)."""
    queryset = Order.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    if staff_has_perm(user, Perm.MANAGE_ORDERS):
        return queryset
    return queryset.filter(user=user)


def payments_visible_to(
    *, user: Any, queryset: QuerySet[Payment] | None = None
) -> QuerySet[Payment]:
    """The payments of the orders the caller sees."""
    queryset = Payment.objects.all() if queryset is None else queryset
    return queryset.filter(order__in=orders_visible_to(user=user))


def order_by_number(
    *, user: Any, number: str, queryset: QuerySet[Order] | None = None
) -> Order | None:
    """The order with this number if the caller may see it (its owner, the
    order desk); None whether it is someone else's or there is none."""
    queryset = Order.objects.all() if queryset is None else queryset
    return orders_visible_to(user=user, queryset=queryset.filter(number=number)).first()


def order_by_token(*, token: UUID, queryset: QuerySet[Order] | None = None) -> Order | None:
    """The order whose receipt link this is, for anyone holding it: the token
    is the key, so there is no other rule."""
    queryset = Order.objects.all() if queryset is None else queryset
    return queryset.filter(token=token).first()
